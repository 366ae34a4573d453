from safety.moderators.prompt import PromptModerator
from safety.moderators.prompt_text import PromptText


def names():
    yield "id1", "Zoë Saldaña", "Zoë Saldaña"
    yield "id1", "Zoë Saldaña", "Z. Saldana"


def categories(findings):
    return {f.category for f in findings if f.score >= 0.5}


def test_names_match_case_and_diacritics_insensitively_on_word_boundaries():
    mod = PromptModerator(names=names)
    assert "public_figure_name" in categories(mod.score("a film with ZOE SALDANA dancing"))
    assert "public_figure_name" in categories(mod.score("starring z. saldana"))
    assert "public_figure_name" not in categories(mod.score("zoe saldanas is another word"))
    # Written as one word it is still the name (a hashtag, or a dodge).
    assert "public_figure_name" in categories(mod.score("#ZoeSaldana dancing"))


def test_blocklist_terms_match_whole_words_only():
    mod = PromptModerator(blocklist=["gore"])
    assert "blocklist" in categories(mod.score("lots of GORE please"))
    assert "blocklist" not in categories(mod.score("a gorgeous sunset"))


def test_classifier_scores_every_prompt():
    mod = PromptModerator()
    calm = mod.score("a kitten asleep in the sun")
    rude = mod.score("shut up you fucking moron")
    assert calm[0].category == rude[0].category == "profanity"
    assert calm[0].score < 0.2 < 0.8 < rude[0].score


def test_the_readable_text_is_casefolded_without_diacritics():
    assert PromptText.of("Éileen  COLLINS").readable == "eileen  collins"


def test_blocklist_rules_exact_word_and_regex():
    mod = PromptModerator(blocklist=["=just a cat", "re:\\bkill\\w*\\b", "gore"])

    def rules(prompt):
        return [f.detail for f in mod.score(prompt) if f.category == "blocklist"]

    assert rules("Just  a CAT") == ["blocklist rule '=just a cat' (exact) matched"]
    assert rules("just a cat on a mat") == []
    assert rules("a killer whale") == ["blocklist rule 're:\\\\bkill\\\\w*\\\\b' (regex) matched"]
    assert rules("skilled painter") == []


def test_a_bad_regex_is_a_clear_configuration_error():
    import pytest

    with pytest.raises(ValueError, match="blocklist regex"):
        PromptModerator(blocklist=["re:(unclosed"])


def _minors(prompt: str):
    return [f for f in PromptModerator().score(prompt) if f.category == "sexual_minors"]


def test_a_minor_named_beside_sexual_terms_is_found_however_it_is_spelt():
    for prompt in [
        "a young girl, nude, on a bed",
        "a y0ung g1rl n u d e on a bed",  # leetspeak, spaced letters
        "\u0441hild n\u0430ked",  # Cyrillic с and а
        "12yo sexy selfie",
        "a fifteen-year-old in lingerie",
        "S C H O O L G I R L  t o p l e s s",
        "a kid " + "in a sunny garden " * 40 + "naked",  # padding between the terms
    ]:
        (finding,) = _minors(prompt)
        assert finding.score == 1.0 and finding.subject == "prompt", prompt


def test_either_list_alone_is_not_sexual_minors():
    for prompt in [
        "children building a sandcastle",
        "a naked mole rat",
        "sexy lingerie advert for adults",
        "a comic strip about kids",
        "an 18 year old graduate",
    ]:
        assert _minors(prompt) == [], prompt


def test_the_term_lists_are_part_of_the_checks_version():
    from safety.moderators.prompt import MinorsTerms

    assert MinorsTerms().version in PromptModerator().model_version
    assert MinorsTerms(["kid"], ["nude"]).version != MinorsTerms(["kid"], ["naked"]).version
