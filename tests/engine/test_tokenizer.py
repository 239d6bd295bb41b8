"""The tokenizer: words (with internal apostrophes) and single visible characters, emoji sequences included."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnviz.engine import tokenize
from attnviz.engine.tokenizer import token_spans, vocab_key

CASES = [
    ("Let's go!", ["Let's", "go", "!"]),
    ("don’t stop", ["don’t", "stop"]),
    ("I don’t know", ["I", "don’t", "know"]),
    ("the dogs' bowls", ["the", "dogs", "'", "bowls"]),
    ("dogs'", ["dogs", "'"]),
    ("'tis", ["'", "tis"]),
    ("’tis", ["’", "tis"]),
    ("rock'n'roll", ["rock'n'roll"]),
    ("a''b", ["a", "'", "'", "b"]),
    ("snake_case", ["snake", "_", "case"]),
    ("_", ["_"]),
    ("__init__", ["_", "_", "init", "_", "_"]),
    ("GPT2 is 2nd", ["GPT2", "is", "2nd"]),
    ("42", ["42"]),
    ("3.14", ["3", ".", "14"]),
    ("naïve café", ["naïve", "café"]),
    ("Привет мир", ["Привет", "мир"]),
    ("日本語", ["日本語"]),
    ("Καλημέρα κόσμε", ["Καλημέρα", "κόσμε"]),
    ("What?!", ["What", "?", "!"]),
    ("?!", ["?", "!"]),
    ("...", [".", ".", "."]),
    ("e-mail", ["e", "-", "mail"]),
    ("(a)", ["(", "a", ")"]),
    ("a\tb\nc\r\nd", ["a", "b", "c", "d"]),
    ("a\u00a0b", ["a", "b"]),  # no-break space separates too
    ("  padded  ", ["padded"]),
    ("", []),
    (" ", []),
    ("\t\n \r", []),
    # a symbol keeps what is drawn as part of it: no invisible selector or joiner of its own
    ("I \u2764\ufe0f pizza", ["I", "\u2764\ufe0f", "pizza"]),  # red heart: ❤ and variation selector 16
    ("\u2764\ufe0fpizza", ["\u2764\ufe0f", "pizza"]),  # the selector is not the start of a word
    ("\u263a\ufe0e", ["\u263a\ufe0e"]),  # text-style selector
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467", ["\U0001f468\u200d\U0001f469\u200d\U0001f467"]),  # family
    ("\U0001f3f3\ufe0f\u200d\U0001f308!", ["\U0001f3f3\ufe0f\u200d\U0001f308", "!"]),  # rainbow flag
    ("\U0001f469\U0001f3fd\u200d\U0001f4bb codes", ["\U0001f469\U0001f3fd\u200d\U0001f4bb", "codes"]),
    ("\U0001f44d\U0001f3fb\U0001f44d\U0001f3ff", ["\U0001f44d\U0001f3fb", "\U0001f44d\U0001f3ff"]),  # skin tones
    ("\U0001f1eb\U0001f1f7", ["\U0001f1eb\U0001f1f7"]),  # the flag of France: two regional indicators
    ("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea\U0001f1ee",  # pairs from the left; the fifth is alone
     ["\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea", "\U0001f1ee"]),
    ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland: tag characters
     ["\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"]),
    ("#\ufe0f\u20e3 1\ufe0f\u20e3", ["#\ufe0f\u20e3", "1\ufe0f\u20e3"]),  # keycaps
    ("\U000e0100\u2764\U000e0100", ["\U000e0100", "\u2764\U000e0100"]),  # an ideographic selector with no symbol
    ("\u2192\u0338 _\u0301", ["\u2192\u0338", "_\u0301"]),  # combining marks on symbols
    ("\u2764\u200dpizza", ["\u2764\u200d", "pizza"]),  # a joiner takes no word along
    ("a\U0001f3fb", ["a", "\U0001f3fb"]),  # words are as they were: a modifier after a letter is a symbol
]


@pytest.mark.parametrize(("sentence", "expected"), CASES)
def test_tokenize(sentence, expected):
    assert tokenize(sentence) == expected


@pytest.mark.parametrize(("sentence", "expected"), CASES)
def test_spans_match_tokens(sentence, expected):
    spans = token_spans(sentence)
    assert [sentence[a:b] for a, b in spans] == expected
    # in order, non-overlapping, and only whitespace between them
    end = 0
    for a, b in spans:
        assert end <= a < b
        assert sentence[end:a].strip() == ""
        end = b
    assert sentence[end:].strip() == ""


def test_tokens_keep_their_case_and_vocab_key_lowercases():
    assert tokenize("The CAT") == ["The", "CAT"]
    assert vocab_key("The") == "the"
    assert vocab_key("ПРИВЕТ") == "привет"
    assert vocab_key("Don't") == "don't"
    # lower(), not casefold(): "ß" stays, so a vocabulary entry "straße" is found
    assert vocab_key("Straße") == "straße"
    assert vocab_key("STRASSE") == "strasse"


@pytest.mark.parametrize("word", [unicodedata.normalize("NFD", "naïve"), unicodedata.normalize("NFD", "Café"),
                                  "नमस्ते", "สวัสดี", unicodedata.normalize("NFD", "don’t")])
def test_words_with_combining_marks_stay_whole(word):
    assert tokenize(word) == [word]
    assert tokenize(f"({word}, {word}!)") == ["(", word, ",", word, "!", ")"]


def test_combining_marks_in_one_sentence_do_not_leak_into_another():
    assert tokenize(unicodedata.normalize("NFD", "é")) == [unicodedata.normalize("NFD", "é")]
    assert tokenize("a-b") == ["a", "-", "b"]
    assert tokenize("x\u0301-y") == ["x\u0301", "-", "y"]


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_joining_tokens_gives_the_sentence_without_whitespace(text):
    tokens = tokenize(text)
    assert "".join(tokens) == "".join(text.split())
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert [text[a:b] for a, b in token_spans(text)] == tokens


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("ab1 '’_!?\t")))
def test_every_token_is_a_word_or_one_character(text):
    for t in tokenize(text):
        if len(t) > 1:
            # a word: starts and ends with a letter/digit, apostrophes only between them, never two in a row
            assert t[0].isalnum() and t[-1].isalnum()
            assert "_" not in t
            assert "''" not in t and "’’" not in t and "'’" not in t and "’'" not in t


ZWJ = "\u200d"
# Drawn as part of the character before them, never on their own.
EXTENDERS = ("\u0301", "\u0338", "\u20e3", "\ufe0e", "\ufe0f", "\U000e0100", "\U000e01ef",
             "\U0001f3fb", "\U0001f3ff", "\U000e0020", "\U000e0067", "\U000e007f")
SYMBOLS = ("!", "?", "#", "_", "(", "\u2764", "\u263a", "\u2192", "\U0001f44d", "\U0001f468", "\U0001f469",
           "\U0001f3f3", "\U0001f308", "\U0001f355")
FLAGS = ("\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea", "\U0001f1ef\U0001f1f5")  # regional indicator pairs


def _invisible(c: str) -> bool:
    """A combining mark, a selector, a joiner, a skin-tone modifier or a tag: nothing to see alone."""
    return (unicodedata.category(c).startswith("M") or c == ZWJ or "\U0001f3fb" <= c <= "\U0001f3ff"
            or "\U000e0020" <= c <= "\U000e007f")


def _is_word(token: str) -> bool:
    return token[0].isalnum() or unicodedata.category(token[0]).startswith("M")


@st.composite
def clusters(draw):
    """One visible character: a symbol or a flag, its marks and selectors, maybe joined to more such."""
    def one() -> str:
        return draw(st.sampled_from(SYMBOLS + FLAGS)) + "".join(draw(st.lists(st.sampled_from(EXTENDERS), max_size=3)))

    return ZWJ.join(one() for _ in range(draw(st.integers(1, 3))))


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(clusters() | st.text("abcé1", min_size=1, max_size=4), max_size=8), st.data())
def test_each_visible_character_is_one_token(pieces, data):
    text = ""
    for i, piece in enumerate(pieces):
        between_words = i > 0 and _is_word(piece) and _is_word(pieces[i - 1])
        text += (" " if between_words else data.draw(st.sampled_from(["", " "]))) + piece
    tokens = tokenize(text)
    assert tokens == pieces
    assert not any(all(_invisible(c) for c in t) for t in tokens)
    assert [text[a:b] for a, b in token_spans(text)] == tokens


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(st.sampled_from(("a", "b", "é", "1", "'", " ", ZWJ, *EXTENDERS, *SYMBOLS, "\U0001f1eb", "\U0001f1f7"))))
def test_no_symbol_sheds_an_invisible_token(text):
    """Whatever the mix: nothing invisible starts a token right after a symbol, and nothing is lost."""
    tokens, spans = tokenize(text), token_spans(text)
    assert "".join(tokens) == "".join(text.split())
    assert [text[a:b] for a, b in spans] == tokens
    for (prev, (_, end)), (token, (start, _)) in itertools.pairwise(zip(tokens, spans, strict=True)):
        if end == start and not _is_word(prev):
            assert not _invisible(token[0]), (prev, token)


def test_a_sentence_longer_than_the_limit_is_refused_everywhere():
    import numpy as np

    from attnviz.engine import AttnvizError, Document, forward
    from attnviz.engine.tokenizer import MAX_TOKENS, check_length

    ok, too_long = " ".join(["a"] * MAX_TOKENS), " ".join(["a"] * (MAX_TOKENS + 1))
    assert len(check_length(ok)) == MAX_TOKENS
    with pytest.raises(AttnvizError, match=f"{MAX_TOKENS + 1} tokens; attnviz shows at most {MAX_TOKENS}"):
        check_length(too_long)
    parts = dict(vocab=("a",), embeddings=[[1.0]], W_q=np.ones((1, 1, 1)), W_k=np.ones((1, 1, 1)),
                 W_v=np.ones((1, 1, 1)))
    with pytest.raises(AttnvizError, match="at most"):
        Document(**parts, sentence=too_long)
    with pytest.raises(AttnvizError, match="at most"):
        forward(Document(**parts, sentence="a"), too_long)
