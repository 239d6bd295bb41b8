"""The forward pass against the loop-based reference in ``reference.py``, plus its properties."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnviz.engine import AttentionResult, AttnvizError, Config, Document, causal_mask, forward, softmax
from attnviz.engine.resize import resize_document


def _load_reference():
    """Load reference.py by path, so it works whatever pytest's import mode is."""
    name = "attnviz_tests_engine_reference"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("reference.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

TOL = dict(rtol=1e-9, atol=1e-9)
# Vocabulary words the tokenizer keeps whole; upper-casing them must still find them.
WORDS = ("the", "cat", "sat", "on", "mat", "naïve", "don't", "привет")
UNKNOWN = ("zebra", "Quux", "日本語", "it’s")
FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def assert_close(actual, expected, shape, what=""):
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=float).reshape(shape)
    assert actual.shape == tuple(shape), f"{what}: shape {actual.shape} != {shape}"
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOL)


# ---------------------------------------------------------------------------
# Strategies

values = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


def matrix(shape):
    return hnp.arrays(np.float64, shape, elements=values)


@st.composite
def problems(draw, *, pe=None, causal=None, n_max=7):
    """A random Document whose vocabulary covers its sentence, and the word indices of the sentence."""
    d_model = draw(st.integers(1, 6))
    n_heads = draw(st.integers(1, 3))
    d_k = draw(st.integers(1, 4))
    if d_model % n_heads == 0 and d_model // n_heads <= 4 and draw(st.booleans()):
        d_v = d_model // n_heads  # lets residual work without W_o
    else:
        d_v = draw(st.integers(1, 4))
    use_wo = draw(st.booleans())
    d_out = d_model  # W_o maps the heads back to d_model
    width = d_out if use_wo else n_heads * d_v
    residual = width == d_model and draw(st.booleans())
    n_vocab = draw(st.integers(1, len(WORDS)))
    vocab = WORDS[:n_vocab]
    n = draw(st.integers(0, n_max))
    idx = draw(st.lists(st.integers(0, n_vocab - 1), min_size=n, max_size=n))
    upper = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    words = [WORDS[i].upper() if u else WORDS[i] for i, u in zip(idx, upper, strict=True)]
    config = Config(
        scale=draw(st.booleans()),
        causal=draw(st.booleans()) if causal is None else causal,
        temperature=draw(st.sampled_from([1.0, 0.5, 2.0, 0.25, 3.7])),
        positional_encoding=draw(st.sampled_from(["sinusoidal", "none"])) if pe is None else pe,
        residual=residual,
    )
    doc = Document(
        vocab=vocab,
        embeddings=draw(matrix((n_vocab, d_model))),
        W_q=draw(matrix((n_heads, d_model, d_k))),
        W_k=draw(matrix((n_heads, d_model, d_k))),
        W_v=draw(matrix((n_heads, d_model, d_v))),
        W_o=draw(matrix((n_heads * d_v, d_out))) if use_wo else None,
        config=config,
        sentence=" ".join(words),
    )
    return doc, idx, words


def reference_for(doc: Document, x_rows) -> ref.Reference:
    """Run the reference on the given x rows (lists) with the document's weights and options."""
    c = doc.config
    return ref.attention(
        [list(map(float, row)) for row in x_rows],
        doc.W_q.tolist(),
        doc.W_k.tolist(),
        doc.W_v.tolist(),
        None if doc.W_o is None else doc.W_o.tolist(),
        d_model=doc.d_model,
        scale=c.scale,
        causal=c.causal,
        temperature=c.temperature,
        residual=c.residual,
    )


def check_against_reference(r: AttentionResult, doc: Document, expected: ref.Reference) -> None:
    n, H, d_k, d_v = r.n_tokens, doc.n_heads, doc.d_k, doc.d_v
    d_out = doc.W_o.shape[1] if doc.W_o is not None else H * d_v
    assert_close(r.x, expected.x, (n, doc.d_model), "x")
    assert_close(r.q, expected.q, (H, n, d_k), "q")
    assert_close(r.k, expected.k, (H, n, d_k), "k")
    assert_close(r.v, expected.v, (H, n, d_v), "v")
    assert_close(r.scores, expected.scores, (H, n, n), "scores")
    assert_close(r.logits, expected.logits, (H, n, n), "logits")
    assert_close(r.weights, expected.weights, (H, n, n), "weights")
    assert_close(r.heads, expected.heads, (H, n, d_v), "heads")
    assert_close(r.concat, expected.concat, (n, H * d_v), "concat")
    assert_close(r.output, expected.output, (n, d_out), "output")
    for name in ("x", "q", "k", "v", "scores", "weights", "heads", "concat", "output"):
        assert np.isfinite(getattr(r, name)).all(), name


# ---------------------------------------------------------------------------
# Against the reference


@FAST
@given(problems())
def test_forward_matches_reference(problem):
    doc, idx, words = problem
    r = forward(doc)
    n = len(words)
    assert r.tokens == tuple(words)
    assert r.token_ids == tuple(idx)
    assert r.n_tokens == n and r.n_heads == doc.n_heads
    # known words take their row of the table, whatever their case
    table = doc.embeddings.tolist()
    assert_close(r.embeddings, [table[i] for i in idx], (n, doc.d_model), "embeddings")
    pe = ref.positional_encoding(n, doc.d_model, doc.config.positional_encoding)
    assert_close(r.pe, pe, (n, doc.d_model), "pe")
    x = [[table[i][c] + pe[p][c] for c in range(doc.d_model)] for p, i in enumerate(idx)]
    check_against_reference(r, doc, reference_for(doc, x))


@FAST
@given(problems(), st.lists(st.sampled_from(UNKNOWN), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_forward_with_unknown_words_matches_reference(problem, unknown, rnd):
    doc, _, words = problem
    tokens = list(words) + list(unknown)
    rnd.shuffle(tokens)
    r = forward(doc, " ".join(tokens))
    n = len(tokens)
    assert r.tokens == tuple(tokens)
    vocab = {w: i for i, w in enumerate(doc.vocab)}
    assert r.token_ids == tuple(vocab.get(t.lower(), -1) for t in tokens)
    assert sum(i == -1 for i in r.token_ids) == len(unknown)
    # known rows from the table; the unknown rows are taken as given (test_embedding checks them)
    for p, i in enumerate(r.token_ids):
        if i >= 0:
            np.testing.assert_array_equal(r.embeddings[p], doc.embeddings[i])
    # the same unknown word always gets the same row, and it is finite
    for a in range(n):
        for b in range(n):
            if tokens[a].lower() == tokens[b].lower():
                np.testing.assert_array_equal(r.embeddings[a], r.embeddings[b])
    assert np.isfinite(r.embeddings).all()
    emb = r.embeddings.tolist()
    pe = ref.positional_encoding(n, doc.d_model, doc.config.positional_encoding)
    assert_close(r.pe, pe, (n, doc.d_model), "pe")
    x = [[emb[p][c] + pe[p][c] for c in range(doc.d_model)] for p in range(n)]
    check_against_reference(r, doc, reference_for(doc, x))


def test_a_hand_computed_case():
    """One small case worked out by hand, independent of both engine and reference."""
    doc = Document(
        vocab=("a", "b"),
        embeddings=[[1.0, 0.0], [0.0, 1.0]],
        W_q=[[[1.0], [0.0]]],
        W_k=[[[1.0], [0.0]]],
        W_v=[[[1.0, 0.0], [0.0, 2.0]]],
        config=Config(scale=True, positional_encoding="none"),
        sentence="a b",
    )
    r = forward(doc)
    # q = k = [1, 0]; scores = [[1, 0], [0, 0]]; d_k = 1 so scaling is a no-op
    np.testing.assert_array_equal(r.scores, [[[1.0, 0.0], [0.0, 0.0]]])
    e = math.e
    w0 = [e / (e + 1), 1 / (e + 1)]
    np.testing.assert_allclose(r.weights, [[w0, [0.5, 0.5]]], **TOL)
    # v = [[1, 0], [0, 2]]
    np.testing.assert_allclose(r.output, [[w0[0], 2 * w0[1]], [0.5, 1.0]], **TOL)


def test_heads_are_concatenated_head_zero_first():
    # two heads whose value projections pick different columns of x
    doc = Document(
        vocab=("a",),
        embeddings=[[3.0, 5.0]],
        W_q=np.zeros((2, 2, 1)),
        W_k=np.zeros((2, 2, 1)),
        W_v=[[[1.0], [0.0]], [[0.0], [1.0]]],
        config=Config(positional_encoding="none"),
        sentence="a",
    )
    r = forward(doc)
    np.testing.assert_array_equal(r.concat, [[3.0, 5.0]])
    np.testing.assert_array_equal(r.output, [[3.0, 5.0]])


def test_default_sentence_is_the_documents():
    doc = Document(vocab=("a", "b"), embeddings=[[1.0], [2.0]], W_q=[[[1.0]]], W_k=[[[1.0]]], W_v=[[[1.0]]],
                   sentence="a b a")
    assert forward(doc).tokens == ("a", "b", "a")
    assert forward(doc, "b").tokens == ("b",)


# ---------------------------------------------------------------------------
# Properties


@FAST
@given(problems())
def test_weight_rows_sum_to_one_and_are_probabilities(problem):
    doc, _, _ = problem
    w = forward(doc).weights
    assert (w >= 0).all() and (w <= 1).all()
    np.testing.assert_allclose(w.sum(axis=-1), np.ones(w.shape[:-1]), rtol=0, atol=1e-12)


@FAST
@given(problems(causal=True))
def test_causal_rows_are_zero_above_the_diagonal(problem):
    doc, _, words = problem
    r = forward(doc)
    n = len(words)
    for h in range(doc.n_heads):
        for i in range(n):
            for j in range(n):
                if j > i:
                    assert r.weights[h, i, j] == 0.0
                    assert r.logits[h, i, j] == -math.inf
                else:
                    assert np.isfinite(r.logits[h, i, j])
    # the first token can only look at itself
    if n:
        assert (r.weights[:, 0, 0] == 1.0).all()


def test_causal_mask():
    for n in range(6):
        m = causal_mask(n)
        assert m.shape == (n, n) and m.dtype == bool
        assert m.tolist() == [[j <= i for j in range(n)] for i in range(n)]


@FAST
@given(problems(pe="none", causal=False, n_max=6), st.randoms(use_true_random=False))
def test_permuting_tokens_permutes_rows(problem, rnd):
    doc, _, words = problem
    n = len(words)
    perm = list(range(n))
    rnd.shuffle(perm)
    r = forward(doc)
    rp = forward(doc, " ".join(words[p] for p in perm))
    np.testing.assert_allclose(rp.output, r.output[perm], **TOL)
    # weights' = P A Pᵀ, i.e. weights'[i][j] = A[perm[i]][perm[j]]
    np.testing.assert_allclose(rp.weights, r.weights[:, perm][:, :, perm], **TOL)
    np.testing.assert_allclose(rp.scores, r.scores[:, perm][:, :, perm], **TOL)


def test_permutation_property_is_not_vacuous():
    """With positions encoded, order matters: the permutation check above would catch a PE leak."""
    doc = Document(vocab=("a", "b"), embeddings=[[1.0, 0.0], [0.0, 1.0]], W_q=np.eye(2)[None], W_k=np.eye(2)[None],
                   W_v=np.eye(2)[None], config=Config(positional_encoding="sinusoidal"))
    r, rp = forward(doc, "a b"), forward(doc, "b a")
    assert not np.allclose(rp.output, r.output[[1, 0]])


def _entropy(w):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(w > 0, w * np.log(w), 0.0).sum(axis=-1)


@FAST
@given(problems(), st.sampled_from([0.1, 0.3, 1.0, 2.5]), st.sampled_from([1.5, 2.0, 10.0]))
def test_larger_temperature_makes_rows_flatter(problem, t, factor):
    doc, _, _ = problem
    cold = forward(doc.replace(config=dataclasses.replace(doc.config, temperature=t)))
    hot = forward(doc.replace(config=dataclasses.replace(doc.config, temperature=t * factor)))
    assert (_entropy(hot.weights) >= _entropy(cold.weights) - 1e-9).all()
    # and the hottest weight of each row cannot grow
    if cold.n_tokens:
        assert (hot.weights.max(axis=-1) <= cold.weights.max(axis=-1) + 1e-12).all()


def test_temperature_limits():
    doc = Document(vocab=("a", "b", "c"), embeddings=[[1.0], [2.0], [3.0]], W_q=[[[1.0]]], W_k=[[[1.0]]],
                   W_v=[[[1.0]]], config=Config(positional_encoding="none", temperature=1e9), sentence="a b c")
    # very hot: uniform
    np.testing.assert_allclose(forward(doc).weights, np.full((1, 3, 3), 1 / 3), rtol=0, atol=1e-8)
    # very cold: all weight on the largest score, key "c" (score 3x grows with x)
    cold = forward(doc.replace(config=Config(positional_encoding="none", temperature=1e-3)))
    np.testing.assert_allclose(cold.weights, np.tile([0.0, 0.0, 1.0], (1, 3, 1)), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# Huge and infinite logits


def _two_word_doc(w: float, **config):
    """d_model = d_k = 1; "p" embeds to 1, "m" to -1; score(i, j) = w² x_i x_j."""
    return Document(vocab=("p", "m"), embeddings=[[1.0], [-1.0]], W_q=[[[w]]], W_k=[[[w]]], W_v=[[[1.0]]],
                    config=Config(scale=False, positional_encoding="none", **config))


def test_logits_of_plus_minus_1e300_are_finite_and_take_the_limit():
    doc = _two_word_doc(1e150)
    r = forward(doc, "p m p")
    expected_logits = [[1e300, -1e300, 1e300], [-1e300, 1e300, -1e300], [1e300, -1e300, 1e300]]
    np.testing.assert_allclose(r.logits, [expected_logits], rtol=1e-12)
    np.testing.assert_array_equal(r.weights, [[[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]])
    np.testing.assert_array_equal(r.output, [[1.0], [-1.0], [1.0]])
    assert np.isfinite(r.weights).all() and np.isfinite(r.output).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logits_that_overflow_to_infinity_take_the_limit():
    doc = _two_word_doc(1e200)  # scores are ±1e400 = ±inf
    r = forward(doc, "p m p")
    assert np.isposinf(r.logits[0, 0, 0]) and np.isneginf(r.logits[0, 0, 1])
    np.testing.assert_array_equal(r.weights, [[[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]])
    np.testing.assert_array_equal(r.output, [[1.0], [-1.0], [1.0]])
    causal = forward(doc.replace(config=Config(scale=False, positional_encoding="none", causal=True)), "p m p")
    np.testing.assert_array_equal(causal.weights, [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ([1e300, -1e300, 0.0], [1.0, 0.0, 0.0]),
        ([1e300, 1e300], [0.5, 0.5]),
        ([-1e300, -1e300], [0.5, 0.5]),
        ([-1e300, 1e300], [0.0, 1.0]),
        ([1.7e308, -1.7e308], [1.0, 0.0]),
        ([math.inf, 1.0, math.inf], [0.5, 0.0, 0.5]),
        ([math.inf, -math.inf], [1.0, 0.0]),
        ([math.inf, 1e300, -1e300], [1.0, 0.0, 0.0]),
        ([math.inf], [1.0]),
        ([math.inf, math.nan, 1.0], [1.0, 0.0, 0.0]),  # q·k overflowed: inf and inf·0 in one row
        ([-math.inf, 0.0], [0.0, 1.0]),
        ([0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]),
        ([math.log(1.0), math.log(3.0)], [0.25, 0.75]),
    ],
)
def test_softmax_on_extreme_rows(row, expected):
    out = softmax(np.array([row]))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [expected], rtol=1e-12, atol=1e-300)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_overflowed_row_with_inf_and_nan_gives_the_weight_to_the_inf():
    from attnviz.engine import Config, Document, forward

    W = np.array([[[1e300, 0.0], [0.0, 1.0]]])
    doc = Document(vocab=("a", "b"), embeddings=np.array([[1e300, 0.0], [0.0, 1.0]]), W_q=W, W_k=W, W_v=W,
                   config=Config(positional_encoding="none"), sentence="a b")
    r = forward(doc)
    assert np.isposinf(r.scores[0, 0, 0]) and np.isnan(r.scores[0, 0, 1])  # the case: inf and inf·0
    np.testing.assert_array_equal(r.weights[0, 0], [1.0, 0.0])  # the +inf key takes the weight


def test_softmax_is_row_wise_over_the_last_axis():
    logits = np.array([[[0.0, math.log(2.0)], [math.inf, 0.0]], [[5.0, 5.0], [-1e300, 1e300]]])
    np.testing.assert_allclose(softmax(logits), [[[1 / 3, 2 / 3], [1.0, 0.0]], [[0.5, 0.5], [0.0, 1.0]]], **TOL)
    assert softmax(np.zeros((2, 0, 0))).shape == (2, 0, 0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_softmax_of_an_all_minus_infinity_row_is_spread_evenly():
    # documented: a row that is -inf throughout has no limit and is spread evenly, never NaN
    np.testing.assert_array_equal(softmax(np.array([[-math.inf, -math.inf]])), [[0.5, 0.5]])
    np.testing.assert_array_equal(softmax(np.array([[-math.inf, -math.inf, -math.inf, -math.inf], [0.0, -math.inf,
                                                   -math.inf, -math.inf]])), [[0.25] * 4, [1.0, 0.0, 0.0, 0.0]])


def _tiny_temperature_doc(embeddings, *, causal):
    """d_model = d_k = 1, W_q = 1, W_k = -1: every score is -x_i x_j < 0, and / 1e-308 overflows to -inf."""
    vocab = tuple("abcdefg"[: len(embeddings)])
    return Document(vocab=vocab, embeddings=[[e] for e in embeddings], W_q=[[[1.0]]], W_k=[[[-1.0]]], W_v=[[[1.0]]],
                    config=Config(scale=False, causal=causal, positional_encoding="none", temperature=1e-308))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tiny_temperature_with_one_token_gives_weight_one():
    # self-score -4; -4 / 1e-308 overflows to -inf. A one-key row must weigh 1.
    r = forward(_tiny_temperature_doc([2.0], causal=False), "a")
    np.testing.assert_array_equal(r.weights, [[[1.0]]])
    np.testing.assert_array_equal(r.output, [[2.0]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tiny_temperature_keeps_the_causal_mask():
    r = forward(_tiny_temperature_doc([2.0], causal=True), "a a")
    assert np.isfinite(r.weights).all()
    # token 0 may only look at itself, whatever the temperature
    np.testing.assert_array_equal(r.weights[0, 0], [1.0, 0.0])
    np.testing.assert_array_equal(np.triu(r.weights[0], k=1), np.zeros((2, 2)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tiny_temperature_takes_the_argmax_limit():
    # scores: row "a" = [-4, -2], row "b" = [-2, -1]; as T -> 0 each row goes to its largest score
    r = forward(_tiny_temperature_doc([2.0, 1.0], causal=False), "a b")
    np.testing.assert_array_equal(r.scores, [[[-4.0, -2.0], [-2.0, -1.0]]])
    np.testing.assert_array_equal(r.weights, [[[0.0, 1.0], [0.0, 1.0]]])


# ---------------------------------------------------------------------------
# The result object

ARRAY_FIELDS = ("embeddings", "pe", "x", "q", "k", "v", "scores", "logits", "weights", "heads", "concat", "output")


@settings(max_examples=25, deadline=None, database=None)
@given(problems())
def test_returned_arrays_are_read_only(problem):
    doc, _, _ = problem
    r = forward(doc)
    assert {f.name for f in dataclasses.fields(r)} == {"tokens", "token_ids", "config", *ARRAY_FIELDS}
    assert r.config == doc.config
    for name in ARRAY_FIELDS:
        a = getattr(r, name)
        assert isinstance(a, np.ndarray), name
        assert not a.flags.writeable, name
        with pytest.raises(ValueError):
            a[...] = 0.0
        # nothing returned aliases the document's (read-only) arrays
        for w in ("embeddings", "W_q", "W_k", "W_v", "W_o"):
            if getattr(doc, w) is not None:
                assert not np.shares_memory(a, getattr(doc, w)), (name, w)


def test_result_is_a_frozen_dataclass():
    doc = _two_word_doc(1.0)
    r = forward(doc, "p m")
    assert dataclasses.is_dataclass(r) and isinstance(r, AttentionResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.output = np.zeros((2, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.tokens = ()
    assert isinstance(r.tokens, tuple) and isinstance(r.token_ids, tuple)


@pytest.mark.parametrize("sentence", ["", "   ", "\t\n"])
@pytest.mark.parametrize("use_wo", [False, True])
def test_empty_sentence_gives_zero_row_shapes(sentence, use_wo):
    H, d_model, d_k, d_v, d_out = 2, 3, 2, 4, 3
    rng = np.random.default_rng(0)
    doc = Document(vocab=("a",), embeddings=rng.normal(size=(1, d_model)), W_q=rng.normal(size=(H, d_model, d_k)),
                   W_k=rng.normal(size=(H, d_model, d_k)), W_v=rng.normal(size=(H, d_model, d_v)),
                   W_o=rng.normal(size=(H * d_v, d_out)) if use_wo else None, config=Config(causal=True))
    r = forward(doc, sentence)
    assert r.tokens == () and r.token_ids == () and r.n_tokens == 0 and r.n_heads == H
    shapes = dict(embeddings=(0, d_model), pe=(0, d_model), x=(0, d_model), q=(H, 0, d_k), k=(H, 0, d_k),
                  v=(H, 0, d_v), scores=(H, 0, 0), logits=(H, 0, 0), weights=(H, 0, 0), heads=(H, 0, d_v),
                  concat=(0, H * d_v), output=(0, d_out if use_wo else H * d_v))
    for name, shape in shapes.items():
        assert getattr(r, name).shape == shape, name


# ---------------------------------------------------------------------------
# Reusing the heads of an earlier result

EDITS = ("W_q", "W_k", "W_v", "W_o", "embeddings", "temperature", "causal", "scale", "positional_encoding",
         "word", "sentence", "resize")


@st.composite
def edited(draw, doc: Document) -> Document:
    """``doc`` after one edit a user could make: a weight cell, an option or the sentence."""
    what = draw(st.sampled_from(EDITS))
    if what in ("W_q", "W_k", "W_v", "W_o", "embeddings") and getattr(doc, what) is not None:
        a = np.array(getattr(doc, what))
        cell = tuple(draw(st.integers(0, size - 1)) for size in a.shape)
        a[cell] = draw(values)
        return doc.replace(**{what: a})
    c = doc.config
    if what == "temperature":
        return doc.replace(config=dataclasses.replace(c, temperature=draw(st.sampled_from([1.0, 0.5, 2.0]))))
    if what in ("causal", "scale"):
        return doc.replace(config=dataclasses.replace(c, **{what: not getattr(c, what)}))
    if what == "positional_encoding":
        other = "none" if c.positional_encoding == "sinusoidal" else "sinusoidal"
        return doc.replace(config=dataclasses.replace(c, positional_encoding=other))
    if what == "resize":
        dim = draw(st.sampled_from(["d_k", "d_v", "n_heads"]))
        try:
            return resize_document(doc, **{dim: draw(st.integers(1, 3))}, seed=draw(st.integers(0, 9)))
        except AttnvizError:  # e.g. the residual needs the old width
            return doc
    words = doc.sentence.split()
    if what == "word" and words:  # the same number of tokens
        words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(WORDS[: len(doc.vocab)]))
    else:  # another number of tokens
        words = draw(st.lists(st.sampled_from(WORDS[: len(doc.vocab)]), max_size=7))
    return doc.replace(sentence=" ".join(words))


def assert_bit_identical(a: AttentionResult, b: AttentionResult) -> None:
    assert (a.tokens, a.token_ids, a.config) == (b.tokens, b.token_ids, b.config)
    for name in ARRAY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), name


@FAST
@given(st.data())
def test_reusing_an_earlier_result_gives_the_bits_of_a_fresh_pass(data):
    doc, _, _ = data.draw(problems())
    before = forward(doc)
    for _ in range(data.draw(st.integers(1, 3))):  # a few edits in a row, each reusing the last
        doc = data.draw(edited(doc))
        after = forward(doc, reuse=before)
        assert_bit_identical(after, forward(doc))
        before = after


def _three_head_doc(**config) -> Document:
    rng = np.random.default_rng(7)
    H, d_model, d_k = 3, 4, 2
    return Document(vocab=("a", "b", "c"), embeddings=rng.normal(size=(3, d_model)),
                    W_q=rng.normal(size=(H, d_model, d_k)), W_k=rng.normal(size=(H, d_model, d_k)),
                    W_v=rng.normal(size=(H, d_model, d_k)), W_o=rng.normal(size=(H * d_k, d_model)),
                    config=Config(**config), sentence="a b c a")


@pytest.fixture
def attend_calls(monkeypatch):
    """The number of heads each call of the engine's attend() computed."""
    from attnviz.engine import attention

    calls: list[int] = []
    real = attention.attend

    def counting(q, k, v, cfg):
        calls.append(q.shape[0])
        return real(q, k, v, cfg)

    monkeypatch.setattr(attention, "attend", counting)
    return calls


def _with_cell(doc: Document, name: str, index: tuple[int, ...], value: float) -> Document:
    a = np.array(getattr(doc, name))
    a[index] = value
    return doc.replace(**{name: a})


def test_an_edit_to_one_head_recomputes_that_head_only(attend_calls):
    doc = _three_head_doc()
    before = forward(doc)
    edited_doc = _with_cell(doc, "W_k", (1, 2, 0), 5.0)
    attend_calls.clear()
    after = forward(edited_doc, reuse=before)
    assert attend_calls == [1]
    assert not np.array_equal(after.weights[1], before.weights[1])
    for h in (0, 2):
        np.testing.assert_array_equal(after.weights[h], before.weights[h])
    assert_bit_identical(after, forward(edited_doc))


def test_an_edit_after_attention_recomputes_no_head(attend_calls):
    doc = _three_head_doc()
    before = forward(doc)
    attend_calls.clear()
    after = forward(_with_cell(doc, "W_o", (0, 0), 9.0), reuse=before)
    assert attend_calls == [0]  # called on no head at all
    assert after.weights is before.weights and after.scores is before.scores
    assert not np.array_equal(after.output, before.output)


@pytest.mark.parametrize("change", [dict(temperature=0.5), dict(causal=True), dict(scale=False),
                                    dict(positional_encoding="none")])  # the last changes x, so every q, k, v
def test_an_option_that_changes_every_heads_attention_recomputes_every_head(attend_calls, change):
    doc = _three_head_doc()
    before = forward(doc)
    attend_calls.clear()
    forward(doc.replace(config=dataclasses.replace(doc.config, **change)), reuse=before)
    assert attend_calls == [3]


def _identity_doc(embeddings, W_v=((1.0, 0.0), (0.0, 1.0)), W_q=((1.0, 0.0), (0.0, 1.0))) -> Document:
    return Document(vocab=("a", "b"), embeddings=embeddings, W_q=[W_q], W_k=[[[1.0, 0.0], [0.0, 1.0]]],
                    W_v=[W_v], config=Config(scale=False, positional_encoding="none"), sentence="a b")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("embeddings", "W_q", "W_v", "expected"), [
    ([[1.0, 2.0], [3.0, 4.0]], ((1.0, 0.0), (0.0, 1.0)), ((1.0, 0.0), (0.0, 1.0)), None),
    # a score of 4e154 · 4e154 = 1.6e309: +inf, whose softmax is a limit
    ([[4e154, 0.0], [3e154, 0.0]], ((1.0, 0.0), (0.0, 1.0)), ((1.0, 0.0), (0.0, 1.0)), "similarity scores"),
    # q = [1e400 → inf, 0] meets k = [1e200, 0] and [0, 1]: inf and inf · 0 = NaN
    ([[1e200, 0.0], [0.0, 1.0]], ((1e200, 0.0), (0.0, 1.0)), ((1.0, 0.0), (0.0, 1.0)), "similarity scores"),
    # scores of at most 2, but v = 2 · 1e308 overflows on its own
    ([[1.0, 0.0], [0.0, 1.0]], ((1.0, 0.0), (0.0, 1.0)), ((1e308, 0.0), (0.0, 1.0)), None),
    ([[2.0, 0.0], [0.0, 1.0]], ((1.0, 0.0), (0.0, 1.0)), ((1e308, 0.0), (0.0, 1.0)), "outputs"),
])
def test_the_pass_names_the_first_step_that_overflowed(embeddings, W_q, W_v, expected):
    r = forward(_identity_doc(embeddings, W_v=W_v, W_q=W_q))
    q = np.array(embeddings) @ np.array(W_q)
    s = q @ np.array(embeddings).T
    y = r.weights[0] @ (np.array(embeddings) @ np.array(W_v))
    assert r.overflow() == expected
    assert (expected == "similarity scores") == (not np.isfinite(s).all())
    assert (expected is None) == (np.isfinite(s).all() and np.isfinite(y).all())
