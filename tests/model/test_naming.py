"""How cells and words are named in undo texts, titles and tooltips."""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st

from attnviz.model.naming import embedding_name, quoted

JOINERS = "\u200c\u200d"
INVISIBLE = JOINERS + "\u00ad\u200e\u202e\u2067\u2069\ufeff"  # joiners, soft hyphen, direction controls, BOM


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(INVISIBLE + "'\"\\a")))
def test_a_quoted_word_reads_back_and_shows_only_joiners_between_visible_characters(word):
    shown = quoted(word)
    assert ast.literal_eval(shown) == word
    kept = [c for c in shown if not c.isprintable()]
    assert set(kept) <= set(JOINERS)  # a direction control or a lone joiner stays escaped
    if not kept:
        assert shown == repr(word)


def test_a_joiner_inside_a_word_is_written_as_it_is_and_alone_it_is_named():
    family = "👨\u200d👩\u200d👧"  # one token: three emoji held together by two joiners
    assert quoted(family) == f"'{family}'"
    assert embedding_name(family, 1) == f"embedding['{family}', d₂]"
    assert quoted("\u200c") == "'\\u200c'" and quoted("abc\u202e") == "'abc\\u202e'"
    assert quoted("let's") == '"let\'s"'
