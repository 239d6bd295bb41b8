"""How cells and words are named in undo texts, titles and tooltips."""

from __future__ import annotations

import ast
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from attnviz.model.naming import embedding_name, quoted

FORMATS = "\u200c\u200d\u00ad\u200e\u2060"  # a non-joiner, a joiner, a soft hyphen, a direction mark, a word joiner


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(FORMATS + "'\"\\")))
def test_a_quoted_word_reads_back_as_python_reads_it_and_shows_its_format_characters(word):
    shown = quoted(word)
    assert ast.literal_eval(shown) == word
    if not any(unicodedata.category(c) == "Cf" for c in word):
        assert shown == repr(word)
    for c in FORMATS:
        assert c in shown or c not in word  # written as they are, not as \u200c


def test_a_persian_word_is_named_as_it_is_spelt():
    word = "می\u200cخواهم"  # "I want": the non-joiner is part of its spelling
    assert embedding_name(word, 1) == f"embedding['{word}', d₂]"
    assert quoted("piz\u00adza") == "'piz\u00adza'" and quoted("let's") == '"let\'s"'
