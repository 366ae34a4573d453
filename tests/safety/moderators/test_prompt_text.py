"""Prompts are read as a person reads them: spelling tricks do not hide names or terms.

Through the real server (Moderation.Check): the `running` service has Eileen Collins
enrolled and "forbidden fruit" on its blocklist."""

from __future__ import annotations

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from safety.moderators.prompt import PromptModerator
from safety.moderators.prompt_text import PromptText, match_form, phrase_matcher, windows


def blocked_for(running, prompt: str) -> set[str]:
    verdict = running.moderation.Check(pb.CheckRequest(prompt=prompt))
    return {r.category for r in verdict.reasons if r.action == pb.BLOCK}


@pytest.mark.parametrize(
    "prompt",
    [
        "Eileen Coll\u200bins on the moon",  # zero-width space
        "Eileen \u0421ollins on the moon",  # Cyrillic capital Es
        "E\u2060ileen Col\u200dlins on the moon",  # word joiner, zero-width joiner
        "E i l e e n  C o l l i n s on the moon",  # spaced out
        "a E.i.l.e.e.n C.o.l.l.i.n.s portrait",  # spaced with dots, a letter in front
        "#EileenCollins on the moon",  # one word
        "\uff25\uff49\uff4c\uff45\uff45\uff4e Collins",  # fullwidth
        "\u0395ileen C\u043ell\u0456ns",  # Greek Epsilon, Cyrillic o and i
    ],
    ids=["zwsp", "cyrillic", "joiners", "spaced", "dotted", "hashtag", "fullwidth", "mixed"],
)
def test_an_enrolled_name_is_found_however_it_is_spelled(running, prompt):
    assert "public_figure_name" in blocked_for(running, prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "a basket of f0rb1dden fru1t",
        "a basket of f0rbidd3n fru!t",
        "a basket of forbidden\u200b fruit",
        "a basket of f o r b i d d e n f r u i t",
        "a basket of \uff46\uff4f\uff52\uff42\uff49\uff44\uff44\uff45\uff4e fruit",
    ],
    ids=["digits", "signs", "zwsp", "spaced", "fullwidth"],
)
def test_a_blocklist_term_is_found_however_it_is_spelled(running, prompt):
    assert "blocklist" in blocked_for(running, prompt)


def _ignorable() -> list[str]:
    """Every Default_Ignorable_Code_Point, from Unicode's property (not a hand list)."""
    import regex

    prop = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    return [chr(c) for c in range(0x110000) if prop.match(chr(c))]


def test_every_default_ignorable_code_point_is_read_as_nothing():
    """What a renderer draws as nothing cannot split a name or a term: U+034F, variation
    selectors, Hangul fillers and Mongolian free variation selectors are not format
    characters (Cf), and passed."""
    ignorable = _ignorable()
    assert len(ignorable) > 4000 and "\u034f" in ignorable and "\u3164" in ignorable
    name, term = phrase_matcher("Eileen Collins"), phrase_matcher("forbidden fruit")
    missed = [
        f"U+{ord(c):04X}"
        for c in ignorable
        if not name(PromptText.of(f"Eileen Coll{c}ins"))
        or not term(PromptText.of(f"forb{c}idden fruit"))
    ]
    assert not missed, missed[:20]


@pytest.mark.parametrize(
    "prompt",
    [
        "Eileen Coll\u034fins on the moon",  # combining grapheme joiner
        "Eileen Coll\ufe0fins on the moon",  # variation selector 16
        "Eileen Coll\u3164ins on the moon",  # Hangul filler
        "Eileen Coll\u180bins on the moon",  # Mongolian free variation selector
        "Collins_ on the moon",  # underscore glued on
        "#Collins2024 on the moon",  # digits glued on
        "a portrait of AstronautEileenCollins",  # camel case
    ],
    ids=["cgj", "vs16", "hangul-filler", "mongolian-fvs", "underscore", "digits", "camel"],
)
def test_a_name_behind_invisible_or_glued_characters_is_found(running, prompt):
    assert "public_figure_name" in blocked_for(running, prompt)


@pytest.mark.parametrize("prompt", ["a basket of ForbiddenFruit", "forbidden_fruit_2024.png"])
def test_a_term_glued_to_other_word_characters_is_found(running, prompt):
    assert "blocklist" in blocked_for(running, prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "a collie in a field",
        "a forbidding fortress",
        "Collinsworth Street at dusk",
        "McCollinsburg county fair",
        "a COLLINSVILLE road sign",
    ],
)
def test_ordinary_prompts_stay_allowed(running, prompt):
    assert not blocked_for(running, prompt)


def test_benign_padding_does_not_dilute_an_offensive_phrase():
    moderator = PromptModerator()
    phrase = "shut up you fucking moron"
    padding = " ".join(["a calm lake under a blue sky with soft clouds"] * 40)
    alone = moderator.score(phrase)[0].score
    padded = moderator.score(f"{padding} {phrase} {padding}")[0].score
    assert alone > 0.85
    assert padded > 0.85, padded


def test_forms_compare_both_sides_alike():
    assert match_form("Eileen Collins") == match_form("E1leen C0llins")
    assert match_form("emma") == match_form("ernma")  # TR39: rn looks like m
    assert PromptText.of("Eileen\u200bCollins").readable == "eileencollins"
    assert windows("one two") == ["one two"]
    long = " ".join(str(i) for i in range(40))
    assert any(w.startswith("16 ") for w in windows(long, size=16, stride=8))


def test_a_minor_beside_sexual_terms_is_blocked_and_no_policy_softens_it(running):
    verdict = running.moderation.Check(pb.CheckRequest(prompt="a y0ung g1rl n u d e"))
    assert verdict.action == pb.BLOCK
    assert any(r.category == "sexual_minors" for r in verdict.reasons)
    assert "text/sexual_minors" not in verdict.unevaluated_categories
