from safety.moderation import PromptModerator
from safety.text import PromptText


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
