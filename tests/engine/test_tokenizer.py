"""The tokenizer: words (with internal apostrophes) and single non-space characters."""

from __future__ import annotations

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
