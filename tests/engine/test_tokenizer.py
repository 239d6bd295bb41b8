"""The tokenizer: words (with internal apostrophes) and single visible characters, emoji sequences included;
nothing invisible is a token."""

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
    ("\U000e0100\u2764\U000e0100", ["\u2764\U000e0100"]),  # a selector with no symbol is dropped
    ("\u2192\u0338 _\u0301", ["\u2192\u0338", "_\u0301"]),  # combining marks on symbols
    ("\u2764\u200dpizza", ["\u2764\u200d", "pizza"]),  # a joiner takes no word along
    ("a\U0001f3fb", ["a", "\U0001f3fb"]),  # words are as they were: a modifier after a letter is a symbol
    # a joiner, non-joiner or soft hyphen inside a word is part of it
    ("می\u200cخواهم", ["می\u200cخواهم"]),  # Persian "I want": the non-joiner keeps ی from joining خ
    ("ශ්\u200dරී ලංකා", ["ශ්\u200dරී", "ලංකා"]),  # Sinhala "Sri Lanka": a ZWJ makes the rakaransaya
    ("क्\u200dष", ["क्\u200dष"]),  # Devanagari: a ZWJ asks for the half form of क
    ("piz\u00adza", ["piz\u00adza"]),
    ("some piz\u00adza, piz\u00ad\u00adza", ["some", "piz\u00adza", ",", "piz\u00ad\u00adza"]),
    ("don\u00ad't", ["don\u00ad't"]),
    # ... and after a word too (UAX #29 WB4): a joiner takes no symbol into the word
    ("word\u200c", ["word\u200c"]),
    ("a\u00ad!", ["a\u00ad", "!"]),
    ("a\u200d\U0001f355", ["a\u200d", "\U0001f355"]),
    ("a\u200eb שלום\u200f", ["a\u200eb", "שלום\u200f"]),  # direction marks
    ("\u2764\ufe0f\u00ad!", ["\u2764\ufe0f\u00ad", "!"]),  # a symbol takes it along as it takes a selector
    # a zero-width space separates words, as a space does
    ("สวัสดี\u200bครับ", ["สวัสดี", "ครับ"]),  # Thai writes no spaces between words
    ("Let's\u200bgo\u200b!", ["Let's", "go", "!"]),
    ("\U0001f355\u200d\u200b\U0001f355", ["\U0001f355\u200d", "\U0001f355"]),  # even after a joiner
    ("a \u200b b\u200b\u200b", ["a", "b"]),
    # after a space or at the start an invisible character has nothing to belong to: it goes with the space
    ("\ufeffLet's go", ["Let's", "go"]),  # a byte-order mark pasted from a file
    ("a \u200cb \u200d\U0001f355", ["a", "b", "\U0001f355"]),
    ("a \u0301b", ["a", "b"]),
    ("\u200b", []),
    ("\u00ad", []),
    ("\u200d", []),
    (" \u0301 \ufe0f\u200e", []),
    ("\u3164 \u3164a\u3164", ["a\u3164"]),  # a Hangul filler is a letter drawn as nothing
]


@pytest.mark.parametrize(("sentence", "expected"), CASES)
def test_tokenize(sentence, expected):
    assert tokenize(sentence) == expected


ZWJ = "\u200d"
ZWSP = "\u200b"
# Format characters that are drawn (over the digits after them): Unicode's prepended concatenation marks.
DRAWN_FORMATS = "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"


def _separator(c: str) -> bool:
    return c.isspace() or c == ZWSP


def _nothing_to_see(c: str) -> bool:
    """Alone, drawn as nothing: a separator, a format character, a mark drawn onto another, a Hangul filler."""
    category = unicodedata.category(c)
    return (_separator(c) or category in ("Mn", "Me") or (category == "Cf" and c not in DRAWN_FORMATS)
            or c in "\u115f\u1160\u3164\uffa0")


def _check_tokens(text: str) -> list[str]:
    """The tokens of ``text``, checked: each is its span of the text, in order, starts with something to see and
    holds no separator; what lies between them is separators and the invisible characters after them."""
    tokens, spans = tokenize(text), token_spans(text)
    assert [text[a:b] for a, b in spans] == tokens
    end = 0
    for (a, b), token in [*zip(spans, tokens, strict=True), ((len(text), len(text)), None)]:
        assert end <= a
        gap = text[end:a]
        assert all(_nothing_to_see(c) for c in gap), gap
        if end > 0 and gap:  # the token before took what belongs to it
            assert _separator(gap[0]), gap
        if token is not None:
            assert a < b and not _nothing_to_see(token[0]) and not any(_separator(c) for c in token), token
        end = b
    return tokens


@pytest.mark.parametrize(("sentence", "expected"), CASES)
def test_spans_match_tokens(sentence, expected):
    assert _check_tokens(sentence) == expected


def test_tokens_keep_their_case_and_vocab_key_lowercases():
    assert tokenize("The CAT") == ["The", "CAT"]
    assert vocab_key("The") == "the"
    assert vocab_key("ПРИВЕТ") == "привет"
    assert vocab_key("Don't") == "don't"
    # lower(), not casefold(): "ß" stays, so a vocabulary entry "straße" is found
    assert vocab_key("Straße") == "straße"
    assert vocab_key("STRASSE") == "strasse"


def test_soft_hyphens_and_direction_marks_are_no_part_of_the_looked_up_word():
    """They change nothing a reader sees in a word, so it finds its embedding, or its own vector, without them."""
    import numpy as np

    from attnviz.engine.embedding import lookup, unknown_word_vector

    assert vocab_key("Piz\u00adza") == "pizza"
    assert vocab_key("\ufeff\u2066שלום\u200f\u2069") == "שלום"
    # a joiner or non-joiner changes how the letters join: it is spelling, and stays
    assert vocab_key("می\u200cخواهم") == "می\u200cخواهم"
    assert vocab_key("ශ්\u200dරී") == "ශ්\u200dරී"
    tokens = tokenize("Piz\u00adza, pizza")
    _, ids = lookup(tokens, ("pizza",), np.array([[1.0, 2.0]]))
    assert ids == (0, -1, 0)
    assert np.array_equal(unknown_word_vector("pas\u00adta", 8), unknown_word_vector("pasta", 8))


@pytest.mark.parametrize("word", [unicodedata.normalize("NFD", "naïve"), unicodedata.normalize("NFD", "Café"),
                                  "नमस्ते", "สวัสดี", unicodedata.normalize("NFD", "don’t")])
def test_words_with_combining_marks_stay_whole(word):
    assert tokenize(word) == [word]
    assert tokenize(f"({word}, {word}!)") == ["(", word, ",", word, "!", ")"]


def test_combining_marks_in_one_sentence_do_not_leak_into_another():
    assert tokenize(unicodedata.normalize("NFD", "é")) == [unicodedata.normalize("NFD", "é")]
    assert tokenize("a-b") == ["a", "-", "b"]
    assert tokenize("x\u0301-y") == ["x\u0301", "-", "y"]


def test_an_extender_is_part_of_the_word_it_extends_and_seen_alone():
    """Unicode's extenders lengthen or repeat what is before them. Most are letters one sees (Arabic tatweel, 々,
    ー, Thai ๆ, the IPA length mark): in a word they are part of it, after a space a token of their own, as a
    reader sees them ("ดี ๆ" is how Thai spells it). A few are marks, drawn onto the letter before (Adlam's
    lengthener): after a space they are dropped with it. And Catalan's middle dot belongs between its two l's."""
    for word in ("كتـــاب", "人々", "コーヒー", "ดีๆ", "aː"):
        assert tokenize(f"{word} {word}") == [word, word]
    for extender in ("\u0640", "々", "ー", "ๆ", "ː"):
        assert tokenize(f"a {extender}") == ["a", extender]
    assert tokenize("𞤀\U0001e944 \U0001e944") == ["𞤀\U0001e944"]
    assert tokenize("la col·lecció d'il·lusions") == ["la", "col·lecció", "d'il·lusions"]
    assert tokenize("a\u0387b") == ["a\u0387b"]  # the Greek ano teleia is a middle dot, canonically
    assert tokenize("3·4 ·a a· a··b") == ["3", "·", "4", "·", "a", "a", "·", "a", "·", "·", "b"]


# Separators and invisible characters among what they may follow, mixed more often than st.text() mixes them.
MIXED = ("a", "b", "é", "1", "'", "_", "!", "\x00", " ", "\t", ZWSP, ZWJ, "\u200c", "\u00ad", "\u200e", "\u2060",
         "\ufeff", "\u3164", "\u0301", "\u093e", "\u20e3", "\ufe0f", "\U000e0067", "\U0001f3fb", "\u0640", "\u0600",
         "\u2764", "\U0001f355", "\U0001f1eb", "\U0001f1f7")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text() | st.text(st.sampled_from(MIXED)))
def test_tokens_are_seen_and_read_back_the_same(text):
    """No token is empty or invisible, nothing seen is lost, and the tokens, spaced out, read as themselves."""
    tokens = _check_tokens(text)
    assert tokenize(" ".join(tokens)) == tokens


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("ab1 '’_!?\t")))
def test_every_token_is_a_word_or_one_character(text):
    for t in tokenize(text):
        if len(t) > 1:
            # a word: starts and ends with a letter/digit, apostrophes only between them, never two in a row
            assert t[0].isalnum() and t[-1].isalnum()
            assert "_" not in t
            assert "''" not in t and "’’" not in t and "'’" not in t and "’'" not in t


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
    tokens = _check_tokens(text)
    assert tokens == pieces
    assert not any(all(_invisible(c) for c in t) for t in tokens)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(st.sampled_from(("a", "b", "é", "1", "'", " ", ZWJ, *EXTENDERS, *SYMBOLS, "\U0001f1eb", "\U0001f1f7"))))
def test_no_symbol_sheds_an_invisible_token(text):
    """Whatever the mix: nothing invisible starts a token right after a symbol, and nothing is lost."""
    tokens, spans = _check_tokens(text), token_spans(text)
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
