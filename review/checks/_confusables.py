"""Folding text to a look-alike skeleton: "0fficial", a Cyrillic-o "official" and "official" fold alike.

In the spirit of the Unicode skeleton (UTS #39 section 4), but lossier on purpose: the skeleton is
only ever compared, never shown, so letters that look alike in common fonts are collapsed to one
(capital I, lower-case l, digit 1 and the vertical bar all become "l"; "rn" becomes "m").
"""

from __future__ import annotations

import re
import unicodedata

# Capitals whose lower-case form looks like a different Latin letter than the capital does
# (Greek capital eta looks like H, its lower case like n), so they are mapped before casefolding.
_BEFORE_CASEFOLD = str.maketrans(
    {
        "\N{GREEK CAPITAL LETTER ETA}": "h",
        "\N{GREEK CAPITAL LETTER NU}": "n",
        "\N{GREEK CAPITAL LETTER MU}": "m",
        "\N{GREEK CAPITAL LETTER RHO}": "p",
        "\N{GREEK CAPITAL LETTER CHI}": "x",
        "\N{GREEK CAPITAL LETTER UPSILON}": "y",
        "\N{GREEK CAPITAL LETTER BETA}": "b",
        "\N{GREEK CAPITAL LETTER KAPPA}": "k",
        "\N{GREEK CAPITAL LETTER TAU}": "t",
        "\N{GREEK CAPITAL LETTER ZETA}": "z",
        "\N{GREEK CAPITAL LETTER IOTA}": "l",
        "\N{CYRILLIC CAPITAL LETTER EN}": "h",
        "\N{CYRILLIC CAPITAL LETTER VE}": "b",
        "\N{CYRILLIC CAPITAL LETTER EM}": "m",
        "\N{CYRILLIC CAPITAL LETTER TE}": "t",
        "\N{CYRILLIC CAPITAL LETTER KA}": "k",
        "\N{CYRILLIC CAPITAL LETTER ER}": "p",
        "\N{CYRILLIC CAPITAL LETTER DZE}": "s",
        "\N{CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I}": "l",
        "\N{CYRILLIC LETTER PALOCHKA}": "l",
        "\N{CYRILLIC CAPITAL LETTER JE}": "j",
    }
)

# Lower-case look-alikes (after NFKD, which already turns fullwidth and mathematical letters into
# ASCII) and the digits and symbols people substitute for letters.
_AFTER_CASEFOLD = str.maketrans(
    {
        # Cyrillic
        "\N{CYRILLIC SMALL LETTER A}": "a",
        "\N{CYRILLIC SMALL LETTER VE}": "b",
        "\N{CYRILLIC SMALL LETTER SOFT SIGN}": "b",
        "\N{CYRILLIC SMALL LETTER ES}": "c",
        "\N{CYRILLIC SMALL LETTER KOMI DE}": "d",
        "\N{CYRILLIC SMALL LETTER IE}": "e",
        "\N{CYRILLIC SMALL LETTER IO}": "e",
        "\N{CYRILLIC SMALL LETTER SHHA}": "h",
        "\N{CYRILLIC SMALL LETTER EN}": "h",
        "\N{CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I}": "l",
        "\N{CYRILLIC SMALL LETTER YI}": "l",
        "\N{CYRILLIC SMALL LETTER JE}": "j",
        "\N{CYRILLIC SMALL LETTER KA}": "k",
        "\N{CYRILLIC SMALL LETTER PALOCHKA}": "l",
        "\N{CYRILLIC SMALL LETTER EM}": "m",
        "\N{CYRILLIC SMALL LETTER PE}": "n",
        "\N{CYRILLIC SMALL LETTER O}": "o",
        "\N{CYRILLIC SMALL LETTER ER}": "p",
        "\N{CYRILLIC SMALL LETTER QA}": "q",
        "\N{CYRILLIC SMALL LETTER GHE}": "r",
        "\N{CYRILLIC SMALL LETTER DZE}": "s",
        "\N{CYRILLIC SMALL LETTER TE}": "t",
        "\N{CYRILLIC SMALL LETTER U}": "y",
        "\N{CYRILLIC SMALL LETTER STRAIGHT U}": "y",
        "\N{CYRILLIC SMALL LETTER WE}": "w",
        "\N{CYRILLIC SMALL LETTER OMEGA}": "w",
        "\N{CYRILLIC SMALL LETTER HA}": "x",
        # Greek
        "\N{GREEK SMALL LETTER ALPHA}": "a",
        "\N{GREEK SMALL LETTER BETA}": "b",
        "\N{GREEK LUNATE SIGMA SYMBOL}": "c",
        "\N{GREEK SMALL LETTER EPSILON}": "e",
        "\N{GREEK SMALL LETTER ETA}": "n",
        "\N{GREEK SMALL LETTER IOTA}": "l",
        "\N{GREEK SMALL LETTER KAPPA}": "k",
        "\N{GREEK SMALL LETTER MU}": "u",
        "\N{GREEK SMALL LETTER NU}": "v",
        "\N{GREEK SMALL LETTER OMICRON}": "o",
        "\N{GREEK SMALL LETTER RHO}": "p",
        "\N{GREEK SMALL LETTER TAU}": "t",
        "\N{GREEK SMALL LETTER UPSILON}": "u",
        "\N{GREEK SMALL LETTER CHI}": "x",
        "\N{GREEK SMALL LETTER OMEGA}": "w",
        "\N{GREEK SMALL LETTER GAMMA}": "y",
        "\N{GREEK SMALL LETTER ZETA}": "z",
        # Latin look-alikes
        "\N{LATIN SMALL LETTER DOTLESS I}": "l",
        "i": "l",  # i, I, l, 1 and | are one letter here
        "\N{LATIN SMALL LETTER SCRIPT G}": "g",
        "\N{LATIN SMALL LETTER ALPHA}": "a",
        "\N{LATIN SMALL LETTER LONG S}": "s",
        "\N{LATIN LETTER DENTAL CLICK}": "l",
        "|": "l",
        "\N{SMALL ROMAN NUMERAL FIFTY}": "l",
        # digits and symbols standing in for letters
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "@": "a",
        "$": "s",
    }
)

# Letter pairs that render like one letter. Applied after the single letters, left to right.
_LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))

_COMBINING_MARKS = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def fold_letters(text: str) -> str:
    """NFKC's compatibility mapping, casefold, accents stripped, look-alike characters mapped.

    The decomposed form (NFKD) is used rather than NFKC: it maps the same compatibility
    characters (fullwidth, ligatures, mathematical letters) but never composes a letter with
    the accent after it, so a string folds to the concatenation of its characters' folds and
    `fold_with_origins` can trace every folded character back.
    """
    text = unicodedata.normalize("NFKD", text).translate(_BEFORE_CASEFOLD).casefold()
    text = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.translate(_AFTER_CASEFOLD)


def fold_pairs(text: str) -> str:
    """Collapse letter pairs that look like one letter ("rn" to "m"); input already letter-folded."""
    for pair, letter in _LOOKALIKE_PAIRS:
        text = text.replace(pair, letter)
    return text


def fold(text: str) -> str:
    """The full look-alike fold: letters, then letter pairs."""
    return fold_pairs(fold_letters(text))


def fold_with_origins(text: str) -> tuple[str, list[int]]:
    """`fold(text)` character by character, with the index in `text` each folded character came from.

    Slower than `fold`; used only to quote what a provider actually wrote once a match is found.
    Callers should still check the folded text equals `fold(text)` before trusting the origins.
    """
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        for folded in fold_letters(char):
            chars.append(folded)
            origins.append(index)
    for pair, letter in _LOOKALIKE_PAIRS:
        position = 0
        while True:
            position = "".join(chars).find(pair, position)
            if position < 0:
                break
            chars[position : position + len(pair)] = [letter]
            del origins[position + 1 : position + len(pair)]
            position += 1
    return "".join(chars), origins
