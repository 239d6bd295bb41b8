"""The bundled examples load and show what docs/file-format.md says they show."""

from __future__ import annotations

import json
from pathlib import Path

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


# -----------------------------------------------------------------------------
# Every number docs/file-format.md states about the examples, recomputed here with
# plain NumPy from the example files, and looked for in the docs' own text.

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"


def _section(name: str) -> str:
    """The docs' section on example ``name``, whitespace collapsed so that line wrapping does not matter."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"### `{name}`")
    end = text.find("\n#", start + 1)
    flat = " ".join(text[start : end if end >= 0 else None].split())
    return flat.replace("[ ", "[").replace(" ]", "]")


def _says(section: str, claim: str) -> None:
    assert claim in section, f"docs/file-format.md should say {claim!r}"


def _num(x: float) -> str:
    return f"{x:.2f}"


def _vec(v) -> str:
    return "[" + ", ".join(_num(x) for x in v) + "]"


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"


def _raw(name: str) -> dict:
    """The example file read as plain JSON, not through attnviz's reader."""
    data = json.loads(example_path(name).read_text(encoding="utf-8"))
    return {k: np.array(v, dtype=float) if k.startswith(("W_", "emb")) and v is not None else v
            for k, v in data.items()}


def _sinusoidal(n: int, d: int) -> np.ndarray:
    """Vaswani et al.: column 2i is sin(p / 10000^(2i/d)), column 2i+1 its cosine."""
    p, col = np.arange(n)[:, None], np.arange(d)[None, :]
    angle = p / 10000.0 ** ((col - col % 2) / d)
    return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _inputs(raw: dict) -> tuple[list[str], np.ndarray]:
    """The sentence's words (these sentences are plain words and spaces) and x = embedding + PE."""
    words = raw["sentence"].lower().split()
    emb = raw["embeddings"][[raw["vocab"].index(w) for w in words]]
    return words, emb + _sinusoidal(len(words), emb.shape[1])


def test_docs_lets_go_walk_through():
    raw, doc = _raw("lets-go"), _section("lets-go")
    _, x = _inputs(raw)
    emb, pe = raw["embeddings"], _sinusoidal(2, 2)
    w_q, w_k, w_v = raw["W_q"][0], raw["W_k"][0], raw["W_v"][0]
    _says(doc, f"embeddings let's {_vec(emb[0])} go {_vec(emb[1])}")
    _says(doc, f"PE pos 0 [{pe[0, 0]:g}, {pe[0, 1]:g}] pos 1 [sin 1, cos 1] = {_vec(pe[1])}")
    _says(doc, f"x let's {_vec(x[0])} go {_vec(x[1])}")
    _says(doc, f"W_q = [{_vec(w_q[0])}, W_k = [{_vec(w_k[0])}, W_v = [{_vec(w_v[0])},")
    _says(doc, f"{_vec(w_q[1])}] {_vec(w_k[1])}] {_vec(w_v[1])}]")
    q, k = x @ w_q, x @ w_k
    _says(doc, f"q(let's) = x(let's) W_q = {_vec(q[0])}")
    _says(doc, f"k(let's) = {_vec(k[0])} k(go) = {_vec(k[1])}")
    scores = k @ q[0]
    _says(doc, f"scores = q·k = {_vec(scores)} / √2 = {_vec(scores / np.sqrt(2))}")
    weights = _softmax(scores / np.sqrt(2))
    _says(doc, f"softmax = {_vec(weights)}")
    _says(doc, f'"Let\'s" gives {_pct(weights[0])} of its attention to itself and {_pct(weights[1])} to "go"')
    by_hand = np.round(q[0], 2) @ np.round(k[1], 2)
    _says(doc, f"q(let's)·k(go) comes out as {_num(by_hand).replace('-', '−')}")
    assert _num(by_hand) != _num(scores[1]), "the note on rounding has an example that shows it"


def test_docs_pizza_numbers():
    raw, doc = _raw("pizza"), _section("pizza")
    words, x = _inputs(raw)
    vocab, emb = raw["vocab"], raw["embeddings"]
    assert emb.shape[1] == 4 and raw["W_q"].shape == (1, 4, 2) and raw["W_v"].shape == (1, 4, 2)
    assert raw["W_o"] is None and raw["config"]["positional_encoding"] == "sinusoidal"

    def top(column: int, k: int) -> set[str]:
        return {vocab[i] for i in np.argsort(emb[:, column])[-k:]}

    assert top(0, 3) == {"dog", "pizza", "baby"} and top(1, 2) == {"dog", "baby"}
    assert top(2, 3) == {"pizza", "ate", "some"}
    _says(doc, f"pizza ({_num(emb[vocab.index('pizza'), 2])})")
    _says(doc, f"it ({_num(emb[vocab.index('it'), 3])}); other words slightly negative")
    assert all(-0.5 < e < 0 for w, e in zip(vocab, emb[:, 3], strict=True) if w != "it")

    pe, p = _sinusoidal(len(words), 4), np.arange(len(words))
    assert np.allclose(pe[:, 2], np.sin(p / 100)) and np.allclose(pe[:, 3], np.cos(p / 100))
    assert np.allclose(pe[:, 0], np.sin(p)) and np.allclose(pe[:, 1], np.cos(p))
    _says(doc, f"`sin(p/100)` ({pe[:, 2].min():g} to {_num(pe[:, 2].max())} over the sentence)")
    assert pe[:, 3].min() > 0.99, "cos(p/100) is ≈ 1 everywhere"
    assert pe[:, :2].min() < -0.9 and pe[:, :2].max() > 0.9, "sin p and cos p swing between −1 and 1"

    w_q, w_k, w_v = raw["W_q"][0], raw["W_k"][0], raw["W_v"][0]
    _says(doc, f"(`W_k[2, 0] = {_num(w_k[2, 0])}`)")
    _says(doc, f"(`W_q[3, 0] = {_num(w_q[3, 0])}`)")
    q, k = x @ w_q, x @ w_k
    it, pizza, baby, ate = words.index("it"), words.index("pizza"), words.index("baby"), words.index("ate")
    _says(doc, f'Only "it" has a large query there ({_num(q[it, 0])})')
    _says(doc, f'only "pizza" a large key ({_num(k[pizza, 0])})')
    assert np.delete(q[:, 0], it).max() < q[it, 0] / 2 and np.delete(k[:, 0], pizza).max() < k[pizza, 0] / 2

    scores = q @ k.T
    others = np.delete(scores[it], pizza)
    assert int(np.delete(np.arange(len(words)), pizza)[others.argmax()]) == ate
    _says(doc, f'the score of "it" against "pizza" is {_num(scores[it, pizza])} against at most '
               f'{_num(others.max())} for anything else ("ate"); "baby" gets {_num(scores[it, baby])}')
    weights = _softmax(scores / np.sqrt(2))
    _says(doc, f'After the softmax "it" gives {_pct(weights[it, pizza])} of its attention to "pizza"')

    # "the second query/key column and the small off-diagonal numbers ... barely matter"
    bare_q, bare_k = np.zeros_like(w_q), np.zeros_like(w_k)
    bare_q[3, 0], bare_k[2, 0] = w_q[3, 0], w_k[2, 0]
    bare = _softmax((x @ bare_q) @ (x @ bare_k).T / np.sqrt(2))
    assert abs(bare[it, pizza] - weights[it, pizza]) < 0.02
    # W_v copies "edible" and "alive"; the output for "it" says edible, not alive
    assert w_v[2, 0] > 0.9 and w_v[1, 1] > 0.9
    out = weights @ (x @ w_v)
    assert out[it, 0] > 1 and out[it, 1] < 0
    # every row leans a little towards "pizza"; only "it" leans hard
    assert (weights.argmax(axis=-1) == pizza).all()
    assert np.delete(weights[:, pizza], it).max() < 0.5 < weights[it, pizza]


def test_docs_two_heads_numbers():
    raw, doc = _raw("two-heads"), _section("two-heads")
    words, x = _inputs(raw)
    n = len(words)
    w_q, w_k, w_v = raw["W_q"], raw["W_k"], raw["W_v"]
    assert w_q.shape == w_k.shape == w_v.shape == (2, 4, 2) and raw["W_o"].shape == (4, 4)
    assert raw["config"]["causal"] and raw["config"]["positional_encoding"] == "sinusoidal"
    assert not w_q[:, 2:].any() and not w_k[:, 2:].any(), "both heads read only dimensions 0 and 1"
    assert np.abs(raw["embeddings"][:, :2]).max() < 0.1, "the embeddings are close to 0 there"

    three = 3 * np.eye(2)
    assert np.array_equal(w_q[1, :2], three) and np.array_equal(w_k[1, :2], three)
    assert np.array_equal(w_k[0, :2], three)
    rotation = 3 * np.array([[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]])
    assert np.array_equal(w_q[0, :2], np.round(rotation, 2))
    _says(doc, f"i.e. `[{_vec(rotation[0])}, {_vec(rotation[1])}]`".replace("-", "−"))

    # on the position dimensions alone, the scores are 9 cos(i − j) and 9 cos(i − 1 − j)
    pe = _sinusoidal(n, 4)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    assert np.allclose((pe @ w_q[1]) @ (pe @ w_k[1]).T, 9 * np.cos(i - j))
    assert np.allclose((pe @ w_q[0]) @ (pe @ w_k[0]).T, 9 * np.cos(i - 1 - j), atol=0.05)  # W_q is rounded

    scores = np.stack([(x @ w_q[h]) @ (x @ w_k[h]).T for h in range(2)])  # (heads, n, n)
    masked = np.where(j > i, -np.inf, scores / np.sqrt(2))
    weights = _softmax(masked)
    previous, same = weights[0, np.arange(1, n), np.arange(n - 1)], weights[1, np.arange(1, n), np.arange(1, n)]
    assert (weights[0].argmax(-1)[1:] == np.arange(n - 1)).all() and (weights[1].argmax(-1) == np.arange(n)).all()
    on_target = np.concatenate([previous, same])
    _says(doc, f"Each head gets {round(100 * on_target.min())}–{round(100 * on_target.max())} % of its weight "
               "on the intended word (the first word, which the mask leaves only itself, gets all of it)")
    assert weights[0, 0, 0] == weights[1, 0, 0] == 1.0
    unmasked = _softmax(scores[0] / np.sqrt(2))
    assert unmasked[0].argmax() == n - 1, "without the mask the first word would prefer the last word"
    # query 0 points at angle −1, key n − 1 at n − 1: they are n radians apart
    _says(doc, f"({n} radians is nearly 2π)")
    assert np.cos(n) > 0.95

    # W_v copies dimensions 2 and 3; W_o is the identity
    assert all(np.array_equal(w_v[h], np.eye(4)[:, 2:]) for h in range(2))
    assert np.array_equal(raw["W_o"], np.eye(4))
