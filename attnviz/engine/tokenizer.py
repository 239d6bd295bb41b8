"""Split a sentence into tokens.

A word is a maximal run of Unicode letters, digits and combining marks (so
decomposed "naïve" and scripts with vowel signs stay whole), possibly joined
to another such run by one internal apostrophe (``'`` or ``’``), so ``Let's``
and ``don’t`` stay whole, or by a middle dot between two letters, so Catalan
``col·lecció`` does.

Every other non-space character starts a token of its own, which takes along
what a reader sees as part of that one character (an approximation of a
Unicode extended grapheme cluster, made with the standard ``re`` module): the
combining marks and variation selectors after it (``❤️`` is a heart and
U+FE0F), emoji skin-tone modifiers (``👍🏽``), tag characters (the flag of
Scotland), the keycap U+20E3 (``#️⃣``), and a zero-width joiner U+200D with
the next such symbol (``👨‍👩‍👧`` is one token). Two regional indicators make
one flag (``🇫🇷``). So a symbol does not shed invisible tokens, and a word
never starts with a mark that belongs to the symbol before it.

Nothing invisible is a token or starts one. What is drawn as nothing (a
format character: a soft hyphen, a zero-width joiner or non-joiner, a
direction mark, a word joiner; a Hangul filler) or only onto the character
before it (a non-spacing or enclosing mark) belongs to the token before it,
as in Unicode's word boundaries (UAX #29, rule WB4): inside a word or after
it, it is part of the word, so Persian ``می\u200cخواهم``, Sinhala
``ශ්\u200dරී`` and ``piz\u00adza`` are one word each. After a space, or at
the start, it has nothing to belong to and is dropped with the space. A
spacing mark is seen on its own and may start a word.

Whitespace separates tokens and is dropped, and so is the zero-width space
U+200B, which separates words without showing a gap (Thai and Khmer text,
pasted web pages). Tokens keep their original text; vocabulary look-up
lower-cases them and drops soft hyphens and direction marks (see
:func:`vocab_key`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from attnviz.engine.errors import AttnvizError

# What follows a symbol and belongs to it: variation selectors, the keycap,
# skin-tone modifiers, tag characters (and any combining mark or invisible
# character, added per sentence).
_EXTENDERS = "\ufe00-\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef"
_ZWJ = "\u200d"
_ZWSP = "\u200b"
_REGIONAL_INDICATORS = "\U0001f1e6-\U0001f1ff"
# Format characters that are drawn, over the digits after them (Unicode's
# prepended concatenation marks, such as U+0600 ARABIC NUMBER SIGN): symbols.
_DRAWN_FORMATS = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2"
                           "\U000110bd\U000110cd")
# Letters by category, drawn as nothing (Default_Ignorable in Unicode).
_HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def _invisible(c: str) -> bool:
    """A format character or Hangul filler (drawn as nothing), but not the zero-width space, which separates."""
    if c in _HANGUL_FILLERS:
        return True
    return unicodedata.category(c) == "Cf" and c != _ZWSP and c not in _DRAWN_FORMATS


def _pattern(sentence: str) -> re.Pattern[str]:
    """The token pattern, with the combining marks and invisible characters this sentence uses.

    Python's ``re`` has no ``\\p{M}`` or ``\\p{Cf}``, and a class of every
    mark in Unicode takes a second to build, so only the ones present are added.
    """
    if sentence.isascii():  # the common case: no marks to look for
        return _compiled("", "")
    chars = frozenset(sentence)
    marks = "".join(sorted(c for c in chars if unicodedata.category(c).startswith("M")))
    # the joiner is handled on its own: between symbols it joins them into one
    invisible = "".join(sorted(c for c in chars if c != _ZWJ and _invisible(c)))
    return _compiled(marks, invisible)


@functools.lru_cache(maxsize=64)
def _compiled(marks: str, invisible: str) -> re.Pattern[str]:
    spacing = re.escape("".join(c for c in marks if unicodedata.category(c) == "Mc"))
    marks, invisible = re.escape(marks), re.escape(invisible)
    # [^\W_] is "a word character that is not the underscore": letters and digits.
    # A spacing mark is seen on its own, so it may start a word; nothing invisible may.
    start = rf"[^\W_{invisible}]" + (rf"|[{spacing}]" if spacing else "")
    word = rf"(?:{start})(?:[^\W_]|[{marks}{invisible}{_ZWJ}])*"
    pair = f"[{_REGIONAL_INDICATORS}]{{2}}"
    extended = f"[{_EXTENDERS}{marks}{invisible}]*"
    unseen = rf"\s{_ZWSP}{_ZWJ}{marks}{invisible}"  # (a spacing mark is taken as a word first)
    # a joiner never pulls a word into a symbol, so "❤\u200dpizza" still has the word "pizza" to look up
    joined = rf"(?:{_ZWJ}(?:{pair}|[^\w{unseen}]|_)?{extended})*"
    symbol = rf"(?:{pair}|[^{unseen}]){extended}{joined}"
    # Catalan writes its double l with a middle dot ("col·lecció"), an extender in Unicode; between digits
    # it is a product. U+0387 is the same character (its canonical decomposition is U+00B7).
    inside = r"['’]|(?<=[^\W\d_])[\u00b7\u0387](?=[^\W\d_])"
    return re.compile(rf"{word}(?:(?:{inside}){word})*|{symbol}")


# The pass holds several (heads, n, n) arrays: beyond this a pasted book would
# exhaust memory instead of showing anything readable.
MAX_TOKENS = 1024


def check_text(text: str, what: str) -> None:
    """AttnvizError if ``text`` holds a lone surrogate: a half of a UTF-16 pair is not a character.

    JSON escapes ("\\ud83d") and undecodable command-line bytes can carry one in;
    it could be neither hashed into a word vector nor saved as UTF-8.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise AttnvizError(f"{what} holds U+{ord(text[e.start]):04X} at character {e.start + 1}, "
                           "half of a UTF-16 pair and not a character") from None


def check_length(sentence: str) -> list[str]:
    """The tokens of ``sentence``, or AttnvizError if it is not text or has more than MAX_TOKENS."""
    check_text(sentence, "the sentence")
    tokens = tokenize(sentence)
    if len(tokens) > MAX_TOKENS:
        raise AttnvizError(f"the sentence has {len(tokens)} tokens; attnviz shows at most {MAX_TOKENS}")
    return tokens


def tokenize(sentence: str) -> list[str]:
    """``"Let's go!"`` -> ``["Let's", "go", "!"]``; blank text -> ``[]``."""
    return list(_tokens(sentence))


@functools.lru_cache(maxsize=16)
def _tokens(sentence: str) -> tuple[str, ...]:
    # one recompute validates the document, runs the pass and labels the views:
    # the same sentence is split several times in a row
    return tuple(_pattern(sentence).findall(sentence))


def token_spans(sentence: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each token of ``tokenize(sentence)``."""
    return [m.span() for m in _pattern(sentence).finditer(sentence)]


# Drawn as nothing and no part of the spelling: a soft hyphen says where a line
# may break, a word joiner or U+FEFF where it may not, a direction mark which
# way the text runs. "piz\u00adza" is the word pizza and must find its row, so
# the look-up drops them; the token keeps them, as it is the sentence's own
# text and the views draw them as nothing. Joiners and non-joiners stay: they
# change how the letters are drawn, so they are part of the spelling.
_LAYOUT_ONLY = dict.fromkeys(map(ord, "\u00ad\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                      "\u2060\u2066\u2067\u2068\u2069\ufeff"))


def vocab_key(token: str) -> str:
    """The vocabulary entry a token is looked up under: lower-cased, without soft hyphens and direction marks."""
    return token.lower().translate(_LAYOUT_ONLY)
