"""Split a sentence into tokens.

A word is a maximal run of Unicode letters, digits and combining marks (so
decomposed "naïve" and scripts with vowel signs stay whole), possibly joined
to another such run by one internal apostrophe (``'`` or ``’``), so ``Let's``
and ``don’t`` stay whole.

Every other non-space character starts a token of its own, which takes along
what a reader sees as part of that one character (an approximation of a
Unicode extended grapheme cluster, made with the standard ``re`` module): the
combining marks and variation selectors after it (``❤️`` is a heart and
U+FE0F), emoji skin-tone modifiers (``👍🏽``), tag characters (the flag of
Scotland), the keycap U+20E3 (``#️⃣``), and a zero-width joiner U+200D with
the next such symbol (``👨‍👩‍👧`` is one token). Two regional indicators make
one flag (``🇫🇷``). So a symbol does not shed invisible tokens, and a word
never starts with a mark that belongs to the symbol before it. Words are not
clustered this way: a zero-width joiner or non-joiner inside a word (as
Sinhala and Persian use them) is a token of its own between two words.

Whitespace separates tokens and is dropped. Tokens keep their original text;
vocabulary look-up lower-cases them (see :func:`vocab_key`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from attnviz.engine.errors import AttnvizError

# What follows a symbol and belongs to it: variation selectors, the keycap,
# skin-tone modifiers, tag characters (and any combining mark, added per sentence).
_EXTENDERS = "\ufe00-\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef"
_ZWJ = "\u200d"
_REGIONAL_INDICATORS = "\U0001f1e6-\U0001f1ff"


def _pattern(sentence: str) -> re.Pattern[str]:
    """The token pattern, with the combining marks this sentence uses counted as letters and symbol parts.

    Python's ``re`` has no ``\\p{M}``, and a class of every mark in Unicode
    takes a second to build, so only the marks present are added.
    """
    if sentence.isascii():  # the common case: no marks to look for
        return _compiled("")
    marks = frozenset(c for c in sentence if unicodedata.category(c).startswith("M"))
    return _compiled("".join(sorted(marks)))


@functools.lru_cache(maxsize=64)
def _compiled(marks: str) -> re.Pattern[str]:
    marks = re.escape(marks)
    # [^\W_] is "a word character that is not the underscore": letters and digits.
    word = rf"(?:[^\W_]|[{marks}])+" if marks else r"[^\W_]+"
    pair = f"[{_REGIONAL_INDICATORS}]{{2}}"
    extended = f"[{_EXTENDERS}{marks}]*"
    # a joiner never pulls a word into a symbol, so "❤\u200dpizza" still has the word "pizza" to look up
    joined = rf"(?:{_ZWJ}(?:(?:{pair}|[^\w\s]|_){extended})?)*"
    symbol = rf"(?:{pair}|\S){extended}{joined}"
    return re.compile(rf"{word}(?:['’]{word})*|{symbol}")


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


def vocab_key(token: str) -> str:
    """The vocabulary entry a token is looked up under."""
    return token.lower()
