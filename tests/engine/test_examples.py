"""The bundled examples load and show what docs/file-format.md says they show."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.engine import forward
from attnviz.engine import weightsfile as wf
from attnviz.engine.errors import AttnvizError
from attnviz.engine.examples import EXAMPLES, example_path, load_example


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_loads_and_runs(name):
    doc = load_example(name)
    result = forward(doc)
    assert result.n_tokens > 0
    assert all(i >= 0 for i in result.token_ids), "every word of the example's sentence is in its vocabulary"
    assert np.allclose(result.weights.sum(axis=-1), 1.0)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_file_is_canonical_json(name):
    """The files are exactly what save() writes, so saving an unedited example changes nothing."""
    data = example_path(name).read_bytes()
    assert wf.dumps(load_example(name), ".json") == data


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_numbers_have_two_decimals(name):
    doc = load_example(name)
    for m in (doc.embeddings, doc.W_q, doc.W_k, doc.W_v, doc.W_o):
        if m is not None:
            assert np.array_equal(np.round(m, 2), m)


def test_example_names_and_titles():
    assert list(EXAMPLES) == ["lets-go", "pizza", "two-heads"]
    assert all(isinstance(title, str) and title for title in EXAMPLES.values())


def test_unknown_example_lists_the_names():
    with pytest.raises(AttnvizError) as err:
        load_example("nope")
    assert "lets-go, pizza, two-heads" in str(err.value)


def test_lets_go_is_the_notes_example():
    doc = load_example("lets-go")
    assert doc.sentence == "Let's go" and doc.vocab == ("let's", "go")
    assert (doc.d_model, doc.n_heads, doc.d_k, doc.d_v) == (2, 1, 2, 2) and doc.W_o is None
    assert doc.config.positional_encoding == "sinusoidal" and doc.config.scale
    r = forward(doc)
    assert r.tokens == ("Let's", "go")
    let_s = r.weights[0, 0]
    assert let_s[0] > let_s[1], "the notes: 'Let's' is much more similar to itself than to 'go'"
    assert let_s[0] > 0.7


def test_lets_go_by_hand():
    """The first query, computed the way the docs walk through it."""
    doc = load_example("lets-go")
    x0 = doc.embeddings[0] + [np.sin(0), np.cos(0)]  # position 0
    x1 = doc.embeddings[1] + [np.sin(1), np.cos(1)]  # position 1
    q0, k0, k1 = x0 @ doc.W_q[0], x0 @ doc.W_k[0], x1 @ doc.W_k[0]
    s = np.array([q0 @ k0, q0 @ k1]) / np.sqrt(2)
    w = np.exp(s) / np.exp(s).sum()
    assert np.allclose(forward(doc).weights[0, 0], w)


def test_pizza_it_attends_to_pizza_not_baby():
    doc = load_example("pizza")
    r = forward(doc)
    assert r.tokens[-1] == "it"
    row = r.weights[0, -1]
    assert r.tokens[int(row.argmax())] == "pizza"
    assert row[r.tokens.index("pizza")] > 5 * row[r.tokens.index("baby")]


def test_pizza_design_edible_dimension():
    """Key column 0 reads the 'edible' dimension; only 'it' asks for it strongly."""
    doc = load_example("pizza")
    edible = doc.embeddings[:, 2]
    assert doc.vocab[int(edible.argmax())] == "pizza"
    refers_back = doc.embeddings[:, 3]
    assert doc.vocab[int(refers_back.argmax())] == "it"


def test_two_heads_patterns():
    doc = load_example("two-heads")
    assert (doc.n_heads, doc.d_model, doc.d_k, doc.d_v) == (2, 4, 2, 2) and doc.W_o is not None
    r = forward(doc)
    n = r.n_tokens
    assert 5 <= n <= 8
    previous = np.maximum(np.arange(n) - 1, 0)
    assert np.array_equal(r.weights[0].argmax(axis=-1), previous), "head 0 looks at the previous word"
    assert np.array_equal(r.weights[1].argmax(axis=-1), np.arange(n)), "head 1 looks at the word itself"
    assert (r.weights[0, np.arange(1, n), previous[1:]] > 0.8).all()
    assert (r.weights[1, np.arange(n), np.arange(n)] > 0.8).all()


def test_two_heads_pattern_is_positional():
    """The heads read only the position dimensions, so any sentence shows the same pattern."""
    doc = load_example("two-heads")
    r = forward(doc, "mat on the cat sat")
    n = r.n_tokens
    assert np.array_equal(r.weights[0].argmax(axis=-1), np.maximum(np.arange(n) - 1, 0))
    assert np.array_equal(r.weights[1].argmax(axis=-1), np.arange(n))
