"""The Qt document model: signals, coalesced recompute, undo/redo, resize, validation.

Numbers are checked against a NumPy reference written here from the formulas
(x = emb + PE, q = x W_q, softmax(q kᵀ / √d_k / T) v, concat, W_o, residual),
not against attnviz's own forward pass, except where the brief is exactly
"the model's result equals a fresh forward()".
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from attnviz.engine import AttnvizError, Config, Document, forward
from attnviz.engine.examples import load_example
from attnviz.model import DocumentModel

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("embeddings", "W_q", "W_k", "W_v", "W_o")
SENTENCE_TOKENS = ["The", "cat", "sat", "on", "the", "mat"]  # two-heads' sentence
SIGNALS = ("sentenceChanged", "cellsChanged", "structureChanged", "configChanged", "documentReset", "resultChanged")


# ---------------------------------------------------------------------------
# independent reference


def word_vector(word: str, d_model: int) -> np.ndarray:
    """The documented vector of an out-of-vocabulary word: BLAKE2b-8 seed -> PCG64 normals, 2 decimals."""
    seed = int.from_bytes(hashlib.blake2b(word.lower().encode("utf-8"), digest_size=8).digest(), "little")
    return np.round(np.random.Generator(np.random.PCG64(seed)).standard_normal(d_model), 2)


def sinusoid(n: int, d: int) -> np.ndarray:
    pe = np.zeros((n, d))
    for p in range(n):
        for c in range(d):
            angle = p / 10000.0 ** ((c - c % 2) / d)
            pe[p, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return pe


def reference(doc: Document, tokens: list[str]) -> dict[str, np.ndarray]:
    """Multi-head scaled dot-product self-attention, one head at a time."""
    cfg = doc.config
    d = doc.embeddings.shape[1]
    rows = []
    for t in tokens:
        w = t.lower()
        rows.append(doc.embeddings[doc.vocab.index(w)] if w in doc.vocab else word_vector(w, d))
    emb = np.array(rows, dtype=float).reshape(len(tokens), d)
    pe = sinusoid(len(tokens), d) if cfg.positional_encoding == "sinusoidal" else np.zeros_like(emb)
    x = emb + pe
    n = len(tokens)
    qs, ks, vs, ss, ws, hs = [], [], [], [], [], []
    for h in range(doc.W_q.shape[0]):
        q, k, v = x @ doc.W_q[h], x @ doc.W_k[h], x @ doc.W_v[h]
        s = q @ k.T
        logits = s / (np.sqrt(doc.W_q.shape[2]) if cfg.scale else 1.0) / cfg.temperature
        if cfg.causal:
            logits = np.where(np.arange(n)[None, :] <= np.arange(n)[:, None], logits, -np.inf)
        e = np.exp(logits - logits.max(axis=1, keepdims=True)) if n else logits
        w = e / e.sum(axis=1, keepdims=True) if n else e
        qs.append(q), ks.append(k), vs.append(v), ss.append(s), ws.append(w), hs.append(w @ v)
    y = np.concatenate(hs, axis=1)
    if doc.W_o is not None:
        y = y @ doc.W_o
    if cfg.residual:
        y = y + x
    return dict(x=x, q=np.array(qs), k=np.array(ks), v=np.array(vs), scores=np.array(ss), weights=np.array(ws),
                heads=np.array(hs), output=y)


def assert_matches_reference(result, doc: Document, tokens: list[str], tol: float = 1e-9) -> None:
    assert list(result.tokens) == tokens
    ref = reference(doc, tokens)
    for name, expected in ref.items():
        got = getattr(result, name)
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=name)


# ---------------------------------------------------------------------------
# helpers


class Recorder:
    """Every emission of every model signal, in order, as (signal name, args)."""

    def __init__(self, model: DocumentModel) -> None:
        self.calls: list[tuple] = []
        for name in SIGNALS:
            getattr(model, name).connect(lambda *args, _n=name: self.calls.append((_n, args)))

    def of(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]

    def clear(self) -> None:
        self.calls.clear()


def settle(qtbot) -> None:
    qtbot.wait(20)
    QCoreApplication.processEvents()


def snapshot_equal(a: Document, b: Document) -> bool:
    """Bit-exact comparison written here, independent of Document.equals."""
    if (a.vocab, a.config, a.sentence) != (b.vocab, b.config, b.sentence):
        return False
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if (x is None) != (y is None):
            return False
        if x is not None and not (x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()):
            return False
    return True


@pytest.fixture
def model(qtbot):
    m = DocumentModel(load_example("two-heads"))
    yield m
    m.deleteLater()


# ---------------------------------------------------------------------------
# signals


def test_set_cell_emits_cells_changed_with_head_and_range(model, qtbot):
    rec = Recorder(model)
    with qtbot.waitSignal(model.cellsChanged, timeout=1000) as blocker:
        model.set_cell("W_q", 1, 2, 1, 0.75)
    assert blocker.args == ["W_q", 1, 2, 1, 2, 1]
    model.set_cell("embeddings", 0, 3, 2, -1.5)   # head is ignored: -1 for embeddings
    model.set_cell("W_o", 1, 1, 3, 2.0)
    assert rec.of("cellsChanged") == [("W_q", 1, 2, 1, 2, 1), ("embeddings", -1, 3, 2, 3, 2), ("W_o", -1, 1, 3, 1, 3)]
    assert rec.of("structureChanged") == [] and rec.of("documentReset") == []
    assert model.matrix("W_q", 1)[2, 1] == 0.75
    assert model.document().embeddings[3, 2] == -1.5
    assert model.document().W_o[1, 3] == 2.0


def test_set_cell_to_same_value_is_silent(model, qtbot):
    rec = Recorder(model)
    before = model.undo_stack.count()
    model.set_cell("W_k", 0, 0, 0, float(model.matrix("W_k", 0)[0, 0]))
    settle(qtbot)
    assert rec.calls == [] and model.undo_stack.count() == before


def test_set_sentence_emits_sentence_changed(model, qtbot):
    with qtbot.waitSignal(model.sentenceChanged, timeout=1000) as blocker:
        model.set_sentence("the mat sat")
    assert blocker.args == ["the mat sat"]
    assert model.sentence == "the mat sat"


def test_set_option_emits_config_changed(model, qtbot):
    rec = Recorder(model)
    model.set_option("causal", False)
    model.set_option("temperature", 2.5)
    model.set_option("scale", False)
    model.set_option("positional_encoding", "none")
    model.set_option("residual", True)  # two-heads: W_o is 4x4 and d_model 4
    assert rec.of("configChanged") == [("causal",), ("temperature",), ("scale",), ("positional_encoding",),
                                       ("residual",)]
    assert model.config == Config(scale=False, causal=False, temperature=2.5, positional_encoding="none",
                                  residual=True)


@pytest.mark.parametrize("dims", [{"d_model": 5}, {"d_k": 3}, {"d_v": 1}, {"n_heads": 3}, {"n_heads": 1}])
def test_resize_emits_structure_changed(model, dims):
    rec = Recorder(model)
    model.resize(**dims)
    assert rec.of("structureChanged") == [()]
    assert rec.of("documentReset") == []
    for name, n in dims.items():
        assert getattr(model, name) == n


def test_resize_to_same_size_does_nothing(model):
    rec = Recorder(model)
    model.resize(d_model=4, n_heads=2)
    assert rec.calls == [] and model.undo_stack.count() == 0


def test_output_projection_toggle_emits_structure_changed(model):
    rec = Recorder(model)
    model.set_output_projection(False)
    assert not model.has_W_o and model.document().W_o is None
    model.set_output_projection(True)
    assert model.has_W_o
    # square (H·d_v = 4 = d_model): identity
    assert np.array_equal(model.document().W_o, np.eye(4))
    assert rec.of("structureChanged") == [(), ()]
    model.set_output_projection(True)  # already there: nothing
    assert len(rec.of("structureChanged")) == 2


def test_fill_matrix_announces_whole_matrix(model):
    rec = Recorder(model)
    model.fill_matrix("W_k", 1, "zeros")
    assert ("W_k", 1, 0, 0, 3, 1) in rec.of("cellsChanged")
    assert all(args[0] == "W_k" for args in rec.of("cellsChanged"))
    assert rec.of("structureChanged") == []
    doc = model.document()
    assert np.array_equal(doc.W_k[1], np.zeros((4, 2)))
    assert np.array_equal(doc.W_k[0], load_example("two-heads").W_k[0])  # other head untouched
    rec.clear()
    model.fill_matrix("embeddings", -1, "identity")
    assert rec.of("cellsChanged") == [("embeddings", -1, 0, 0, 4, 3)]
    assert np.array_equal(model.document().embeddings, np.eye(5, 4))
    rec.clear()
    model.fill_matrix("W_o", -1, "random")
    assert rec.of("cellsChanged") == [("W_o", -1, 0, 0, 3, 3)]
    w = model.document().W_o
    assert np.array_equal(w, np.round(w, 2)) and len(np.unique(w)) > 4


def test_randomize_announces_each_weight_matrix(model):
    rec = Recorder(model)
    before = model.document()
    model.randomize(seed=7)
    changed = {args[0] for args in rec.of("cellsChanged")}
    assert changed == {"W_q", "W_k", "W_v", "W_o"}
    heads = sorted((a[0], a[1]) for a in rec.of("cellsChanged") if a[0] != "W_o")
    assert heads == [("W_k", 0), ("W_k", 1), ("W_q", 0), ("W_q", 1), ("W_v", 0), ("W_v", 1)]
    after = model.document()
    assert np.array_equal(after.embeddings, before.embeddings)
    for name in ("W_q", "W_k", "W_v", "W_o"):
        assert getattr(after, name).shape == getattr(before, name).shape
        assert not np.array_equal(getattr(after, name), getattr(before, name))
    assert model.undo_stack.count() == 1


def test_add_word_emits_structure_changed_and_uses_deterministic_vector(model):
    rec = Recorder(model)
    model.add_word("Dog")
    assert rec.of("structureChanged") == [()]
    doc = model.document()
    assert doc.vocab == ("the", "cat", "sat", "on", "mat", "dog")
    assert np.array_equal(doc.embeddings[-1], word_vector("dog", 4))
    model.add_word("dog")  # already there
    assert model.undo_stack.count() == 1


def test_load_emits_document_reset_and_result(model, qtbot):
    rec = Recorder(model)
    model.set_cell("W_q", 0, 0, 0, 9.0)
    pizza = load_example("pizza")
    rec.clear()
    model.load(pizza)
    assert rec.of("documentReset") == [()]
    assert rec.of("resultChanged") == [()]  # load computes at once
    assert snapshot_equal(model.document(), pizza)
    assert model.undo_stack.count() == 0 and model.undo_stack.isClean()
    settle(qtbot)
    assert len(rec.of("resultChanged")) == 1


def test_result_changed_comes_after_the_event_loop_turn(model, qtbot):
    settle(qtbot)
    rec = Recorder(model)
    count = model.recompute_count
    assert not model.recompute_pending
    model.set_cell("W_v", 0, 2, 0, 3.0)
    assert rec.of("resultChanged") == [] and model.recompute_count == count
    assert model.recompute_pending
    with qtbot.waitSignal(model.resultChanged, timeout=1000):
        pass
    assert model.recompute_count == count + 1 and not model.recompute_pending
    assert_matches_reference(model.result, model.document(), SENTENCE_TOKENS)


# ---------------------------------------------------------------------------
# coalesced recompute


def test_burst_of_edits_recomputes_once(model, qtbot):
    settle(qtbot)
    results = []
    model.resultChanged.connect(lambda: results.append(model.recompute_count))
    count = model.recompute_count
    rng = np.random.default_rng(1)
    names = ["embeddings", "W_q", "W_k", "W_v", "W_o"]
    expected = {n: np.array(getattr(model.document(), n)) for n in names}
    for _ in range(1000):
        name = names[rng.integers(len(names))]
        a = expected[name]
        idx = tuple(int(rng.integers(s)) for s in a.shape)
        value = float(np.round(rng.normal(0, 1), 3))
        if len(idx) == 3:
            model.set_cell(name, idx[0], idx[1], idx[2], value)
        else:
            model.set_cell(name, 0, idx[0], idx[1], value)
        a[idx] = value
    assert results == [] and model.recompute_count == count
    settle(qtbot)
    qtbot.wait(30)
    assert model.recompute_count == count + 1
    assert results == [count + 1]
    doc = model.document()
    for n in names:
        assert np.array_equal(getattr(doc, n), expected[n]), n
    assert_matches_reference(model.result, doc, SENTENCE_TOKENS)
    assert model.recompute_count == count + 1  # reading the result again costs nothing


def test_mixed_burst_recomputes_once(model, qtbot):
    settle(qtbot)
    hits = []
    model.resultChanged.connect(lambda: hits.append(1))
    count = model.recompute_count
    for i in range(50):
        model.set_sentence("the cat " + "sat " * (i % 4) + "zebra")
        model.set_option("temperature", 0.5 + i / 10)
        model.set_cell("W_q", i % 2, i % 4, i % 2, i / 7)
    model.set_option("causal", False)
    settle(qtbot)
    assert model.recompute_count == count + 1 and len(hits) == 1
    doc = model.document()
    assert doc.config.temperature == 0.5 + 49 / 10 and not doc.config.causal
    assert_matches_reference(model.result, doc, doc.sentence.split())


def test_result_property_flushes_when_stale(model, qtbot):
    count = model.recompute_count
    model.set_option("temperature", 0.25)
    r = model.result  # computed now, not after the event loop
    assert model.recompute_count == count + 1
    assert_matches_reference(r, model.document(), SENTENCE_TOKENS)
    settle(qtbot)
    assert model.recompute_count == count + 1  # the pending timer must not compute again


# ---------------------------------------------------------------------------
# undo / redo


def _edits():
    """(label, action) pairs covering every kind of edit."""
    return [
        ("cell W_q", lambda m: m.set_cell("W_q", 1, 3, 0, -2.25)),
        ("cell embeddings", lambda m: m.set_cell("embeddings", -1, 0, 1, 0.1 + 0.2)),
        ("cell W_o", lambda m: m.set_cell("W_o", -1, 2, 3, 1e-300)),
        ("sentence", lambda m: m.set_sentence("a zebra on the mat")),
        ("option causal", lambda m: m.set_option("causal", False)),
        ("option scale", lambda m: m.set_option("scale", False)),
        ("option temperature", lambda m: m.set_option("temperature", 0.3)),
        ("option pe", lambda m: m.set_option("positional_encoding", "none")),
        ("option residual", lambda m: m.set_option("residual", True)),
        ("resize d_model up", lambda m: m.resize(d_model=6)),
        ("resize d_model down", lambda m: m.resize(d_model=2)),
        ("resize d_k", lambda m: m.resize(d_k=5)),
        ("resize d_v", lambda m: m.resize(d_v=1)),
        ("resize n_heads", lambda m: m.resize(n_heads=4)),
        ("resize many", lambda m: m.resize(d_model=3, d_k=1, d_v=3, n_heads=1, fill="zeros")),
        ("remove W_o", lambda m: m.set_output_projection(False)),
        ("fill zeros", lambda m: m.fill_matrix("W_v", 0, "zeros")),
        ("fill identity", lambda m: m.fill_matrix("W_q", 1, "identity")),
        ("fill random", lambda m: m.fill_matrix("embeddings", -1, "random")),
        ("randomize", lambda m: m.randomize()),
        ("set_matrix", lambda m: m.set_matrix("W_k", 0, np.arange(8.0).reshape(4, 2) / 3)),
        ("add word", lambda m: m.add_word("zebra")),
        ("token embedding", lambda m: (m.set_sentence("the zebra"), m.undo_stack.setClean(),
                                       m.set_token_embedding(1, 0, 4.5))),
    ]


@pytest.mark.parametrize(("label", "action"), _edits(), ids=[e[0] for e in _edits()])
def test_undo_returns_to_the_original_bit_for_bit(qtbot, label, action):
    original = load_example("two-heads")
    m = DocumentModel(original)
    if label == "token embedding":
        m.set_sentence("the zebra")
        original = m.document()
        m.undo_stack.clear()
        m.undo_stack.setClean()
        action = lambda m: m.set_token_embedding(1, 0, 4.5)  # noqa: E731
    action(m)
    after = m.document()
    assert not snapshot_equal(after, original), label
    assert m.undo_stack.count() == 1, label
    assert not m.undo_stack.isClean()
    m.undo_stack.undo()
    assert snapshot_equal(m.document(), original), label
    assert m.document().equals(original)
    assert m.undo_stack.isClean()
    m.undo_stack.redo()
    assert snapshot_equal(m.document(), after), label
    settle(qtbot)
    assert_matches_reference(m.result, after, list(m.result.tokens))
    m.undo_stack.undo()
    settle(qtbot)
    assert_matches_reference(m.result, original, list(m.result.tokens))


def test_same_cell_edits_merge_into_one_step(model):
    original = model.document()
    for v in (1.0, 2.0, 3.0, 4.5):
        model.set_cell("W_k", 1, 0, 1, v)
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert snapshot_equal(model.document(), original)
    model.undo_stack.redo()
    assert model.matrix("W_k", 1)[0, 1] == 4.5


def test_different_cell_edits_do_not_merge(model):
    model.set_cell("W_k", 1, 0, 1, 1.0)
    model.set_cell("W_k", 1, 1, 0, 2.0)
    model.set_cell("W_k", 0, 0, 1, 3.0)
    model.set_cell("W_q", 1, 0, 1, 4.0)
    model.set_cell("W_k", 1, 0, 1, 5.0)
    assert model.undo_stack.count() == 5
    model.undo_stack.undo()
    assert model.matrix("W_k", 1)[0, 1] == 1.0


def test_temperature_edits_merge_but_toggles_do_not(model):
    for t in (1.5, 2.0, 2.5, 3.0):
        model.set_option("temperature", t)
    assert model.undo_stack.count() == 1
    model.set_option("causal", False)
    model.set_option("causal", True)
    assert model.undo_stack.count() == 3
    model.undo_stack.undo()
    model.undo_stack.undo()
    assert model.config.temperature == 3.0
    model.undo_stack.undo()
    assert model.config == load_example("two-heads").config


def test_typing_merges_into_one_step(model):
    text = ""
    for ch in "the cat":
        text += ch
        model.set_sentence(text)
    assert model.undo_stack.count() == 1
    assert model.sentence == "the cat"
    model.undo_stack.undo()
    assert model.sentence == "The cat sat on the mat"
    model.undo_stack.redo()
    assert model.sentence == "the cat"


@pytest.mark.parametrize("edit", ["cell", "temperature", "sentence"])
def test_merged_edits_back_where_they_started_leave_no_step_and_a_clean_document(model, edit):
    """A drag out and back, or a cell typed over and restored, changed nothing: nothing to undo or save."""
    original = model.document()
    start = {"cell": model.matrix("W_k", 1)[0, 1], "temperature": model.config.temperature,
             "sentence": model.sentence}[edit]
    change = {"cell": lambda v: model.set_cell("W_k", 1, 0, 1, v),
              "temperature": lambda v: model.set_option("temperature", v), "sentence": model.set_sentence}[edit]
    model.set_cell("W_q", 0, 0, 0, 5.0)  # an earlier step, and then a save
    model.undo_stack.setClean()
    saved = model.document()
    for value in ((7.0, 2.5, start) if edit != "sentence" else ("the", "the dog", start)):
        change(value)
    assert model.undo_stack.count() == 1 and model.undo_stack.isClean()
    assert snapshot_equal(model.document(), saved)
    model.undo_stack.undo()  # the earlier step, not a step that changes nothing
    assert snapshot_equal(model.document(), original)


def test_a_cell_back_at_minus_zero_is_not_where_it_started(model):
    model.set_cell("W_k", 1, 0, 1, 0.0)
    model.undo_stack.setClean()
    saved = model.document()
    model.set_cell("W_k", 1, 0, 1, 3.0)
    model.set_cell("W_k", 1, 0, 1, -0.0)  # another bit pattern: a save would write "-0.0"
    assert not snapshot_equal(model.document(), saved)
    assert not model.undo_stack.isClean()


def test_typing_after_a_pause_is_a_step_of_its_own(model, monkeypatch):
    from attnviz.model import commands

    clock = [100.0]
    monkeypatch.setattr(commands, "_now", lambda: clock[0])
    original = model.sentence
    typing = (("the", 0.0), ("the dog", 0.5), ("the dog ate", commands.TYPING_PAUSE_S), ("the dog ate it", 1.9))
    for text, pause in typing:
        clock[0] += pause
        model.set_sentence(text)
    assert model.undo_stack.count() == 2  # "the dog", then after the pause "the dog ate it"
    model.undo_stack.undo()
    assert model.sentence == "the dog"
    model.undo_stack.undo()
    assert model.sentence == original


def test_clean_state_after_load_and_after_undo_back(model):
    assert model.undo_stack.isClean() and model.undo_stack.count() == 0
    model.set_cell("W_q", 0, 0, 0, 5.0)
    model.set_sentence("x")
    assert not model.undo_stack.isClean()
    model.undo_stack.undo()
    model.undo_stack.undo()
    assert model.undo_stack.isClean()
    model.undo_stack.redo()
    assert not model.undo_stack.isClean()
    model.load(load_example("lets-go"))
    assert model.undo_stack.isClean() and model.undo_stack.count() == 0
    # typing right after a load is its own step, not merged into anything before the load
    model.set_sentence("go")
    assert model.undo_stack.count() == 1 and not model.undo_stack.isClean()
    model.undo_stack.undo()
    assert model.undo_stack.isClean() and model.sentence == "Let's go"


# ---------------------------------------------------------------------------
# resize keeps values


@pytest.mark.parametrize("fill", ["random", "zeros"])
@pytest.mark.parametrize("dim", ["d_model", "d_k", "d_v", "n_heads"])
@pytest.mark.parametrize("delta", [+2, -1])
def test_resize_keeps_top_left_block(model, dim, delta, fill):
    old = model.document()
    new_n = getattr(old, dim) + delta
    model.resize(fill=fill, **{dim: new_n})
    new = model.document()
    assert getattr(new, dim) == new_n
    H, D, K, V = (min(getattr(old, a), getattr(new, a)) for a in ("n_heads", "d_model", "d_k", "d_v"))
    assert np.array_equal(new.embeddings[:, :D], old.embeddings[:, :D])
    assert np.array_equal(new.W_q[:H, :D, :K], old.W_q[:H, :D, :K])
    assert np.array_equal(new.W_k[:H, :D, :K], old.W_k[:H, :D, :K])
    assert np.array_equal(new.W_v[:H, :D, :V], old.W_v[:H, :D, :V])
    assert new.embeddings.shape == (5, new.d_model)
    assert new.W_q.shape == new.W_k.shape == (new.n_heads, new.d_model, new.d_k)
    assert new.W_v.shape == (new.n_heads, new.d_model, new.d_v)
    # W_o: (H·d_v × d_out), head blocks of d_v rows each; d_out follows d_model
    assert new.W_o.shape == (new.n_heads * new.d_v, new.d_model)
    old_blocks = old.W_o.reshape(old.n_heads, old.d_v, old.d_model)
    new_blocks = new.W_o.reshape(new.n_heads, new.d_v, new.d_model)
    assert np.array_equal(new_blocks[:H, :V, :D], old_blocks[:H, :V, :D])
    if fill == "zeros" and delta > 0:
        new_cells = 0
        for got, kept in ((new.W_q, (H, D, K)), (new.W_k, (H, D, K)), (new.W_v, (H, D, V)),
                          (new_blocks, (H, V, D)), (new.embeddings, (5, D))):
            mask = np.ones(got.shape, dtype=bool)
            mask[tuple(slice(0, n) for n in kept)] = False
            assert np.all(got[mask] == 0)
            new_cells += int(mask.sum())
        assert new_cells > 0
    assert_matches_reference(model.result, new, SENTENCE_TOKENS)


def test_resize_d_v_keeps_w_o_rows_per_head():
    # a W_o whose every entry says where it came from: row r = head*d_v + i, value 100*head + 10*i + col
    doc = load_example("two-heads")
    w_o = np.array([[100 * (r // 2) + 10 * (r % 2) + c for c in range(4)] for r in range(4)], dtype=float)
    m = DocumentModel(doc.replace(W_o=w_o))
    m.resize(d_v=3, fill="zeros")
    got = m.document().W_o
    assert got.shape == (6, 4)
    expected = np.zeros((6, 4))
    expected[0:2] = w_o[0:2]   # head 0 rows 0, 1 stay head 0's first rows
    expected[3:5] = w_o[2:4]   # head 1 rows move to the start of head 1's block
    assert np.array_equal(got, expected)
    m.resize(d_v=1)
    assert np.array_equal(m.document().W_o, w_o[[0, 2]])
    m.undo_stack.undo()
    m.undo_stack.undo()
    assert np.array_equal(m.document().W_o, w_o)


# ---------------------------------------------------------------------------
# invalid values


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "abc", None, "nan", [1.0]])
def test_set_cell_refuses_non_finite_or_non_numbers(model, qtbot, bad):
    rec = Recorder(model)
    before = model.document()
    with pytest.raises(AttnvizError):
        model.set_cell("W_q", 0, 0, 0, bad)
    settle(qtbot)
    assert snapshot_equal(model.document(), before)
    assert model.undo_stack.count() == 0 and rec.calls == []


@pytest.mark.parametrize(("name", "head", "row", "col"),
                         [("W_q", 2, 0, 0), ("W_q", 0, 4, 0), ("embeddings", -1, 5, 0), ("W_o", -1, 0, 4),
                          ("nope", 0, 0, 0)])
def test_set_cell_refuses_missing_cells(model, name, head, row, col):
    before = model.document()
    with pytest.raises(AttnvizError):
        model.set_cell(name, head, row, col, 1.0)
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0


def test_set_cell_on_absent_w_o_raises(model):
    model.set_output_projection(False)
    with pytest.raises(AttnvizError, match="W_o"):
        model.set_cell("W_o", -1, 0, 0, 1.0)
    assert model.undo_stack.count() == 1


@pytest.mark.parametrize("value", [0, -1, 0.0, float("nan"), float("inf"), "2", True])
def test_bad_temperature_raises(model, value):
    before = model.document()
    with pytest.raises(AttnvizError, match="temperature"):
        model.set_option("temperature", value)
    assert model.document().config == before.config and model.undo_stack.count() == 0


def test_unknown_option_and_bad_option_values_raise(model):
    for name, value in [("colour", 1), ("causal", "yes"), ("positional_encoding", "learned"), ("scale", 1)]:
        with pytest.raises(AttnvizError):
            model.set_option(name, value)
    assert model.undo_stack.count() == 0 and model.config == load_example("two-heads").config


def test_residual_with_mismatched_widths_raises_clearly(model):
    model.set_output_projection(False)
    model.resize(d_v=3)  # concat width 2·3 = 6, d_model 4
    before = model.document()
    count = model.undo_stack.count()
    with pytest.raises(AttnvizError) as info:
        model.set_option("residual", True)
    message = str(info.value)
    assert "residual" in message and "6" in message and "4" in message and "\n" not in message
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == count
    assert model.config.residual is False


def test_structural_edits_that_would_break_residual_raise(model):
    model.set_option("residual", True)
    model.resize(d_v=3)  # W_o keeps the output width at d_model = 4
    before = model.document()
    count = model.undo_stack.count()
    with pytest.raises(AttnvizError, match="residual"):
        model.set_output_projection(False)  # the concat would be 2·3 = 6 wide
    with pytest.raises(AttnvizError, match="residual"):
        model.set_output_projection(False)
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == count
    model.undo_stack.undo()
    model.set_output_projection(False)  # concat 2·2 = 4 = d_model: allowed
    assert not model.has_W_o and model.config.residual


@pytest.mark.parametrize("dims", [{"d_model": 0}, {"d_k": 0}, {"n_heads": -1}, {"d_v": 2.5}, {"d_k": True},
                                  {"width": 3}, {"d_model": 5000}])
def test_bad_resize_raises(model, dims):
    before = model.document()
    with pytest.raises(AttnvizError):
        model.resize(**dims)
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0


@pytest.mark.parametrize("dims", [{"d_model": 4096, "d_k": 4096}, {"n_heads": 4096, "d_k": 4096},
                                  {"n_heads": 2049, "d_model": 1024}, {"d_model": 4096, "n_heads": 1025}])
def test_a_resize_past_what_a_matrix_may_hold_is_refused_before_it_allocates(model, dims, monkeypatch):
    """4096 in every box asked numpy for 512 GiB (a MemoryError out of a Qt slot)."""
    from attnviz.model import document_model

    d = {"d_model": model.d_model, "d_k": model.d_k, "n_heads": model.n_heads} | dims
    biggest = max(d["n_heads"] * d["d_model"] * d["d_k"], d["n_heads"] * d["d_k"] * d["d_model"])  # W_q, W_o
    assert biggest > document_model.MAX_NUMBERS  # the case is past the limit
    monkeypatch.setattr(document_model, "resize_document", lambda *a, **k: pytest.fail("allocated"))
    before = model.document()
    with pytest.raises(AttnvizError, match=f"at most {document_model.MAX_NUMBERS:,}"):
        model.resize(**dims)
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0


@pytest.mark.parametrize(("shape", "name"), [((1, 4097, 1), "d_model"), ((4097, 1, 1), "n_heads"),
                                             ((1, 1, 4097), "d_k")])
def test_the_window_refuses_dimensions_past_what_it_works_with(model, shape, name):
    from attnviz.model.document_model import MAX_DIMENSION

    h, d_model, d_k = shape
    w = np.zeros((h, d_model, d_k))
    big = Document(vocab=("a",), embeddings=np.zeros((1, d_model)), W_q=w, W_k=w, W_v=w)  # the engine takes it
    before = model.document()
    with pytest.raises(AttnvizError, match=f"{name} is 4,097; the window works with at most {MAX_DIMENSION:,}"):
        model.load(big)
    with pytest.raises(AttnvizError, match=f"{name} is 4,097"):
        model.replace_document(big, "paste")
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0
    with pytest.raises(AttnvizError, match=f"{name} is 4,097"):
        DocumentModel(big)


def test_a_resize_leaves_a_files_large_matrices_it_does_not_change_alone(qtbot):
    """A 50 000-word vocabulary (5 million embedding numbers) loads; resizing the heads must not trip over it."""
    from attnviz.model.document_model import MAX_NUMBERS

    vocab = tuple(f"w{i}" for i in range(50_000))
    w = np.ones((1, 100, 2))
    m = DocumentModel(Document(vocab=vocab, embeddings=np.zeros((len(vocab), 100)), W_q=w, W_k=w, W_v=w))
    assert m.document().embeddings.size > MAX_NUMBERS
    m.resize(n_heads=2)
    m.resize(d_k=16, d_v=16)
    assert (m.n_heads, m.d_k) == (2, 16)
    with pytest.raises(AttnvizError, match="embeddings would hold 50,000 × 101"):
        m.resize(d_model=101)  # this one grows the embeddings
    m.deleteLater()


def test_a_resize_up_to_what_a_matrix_may_hold_goes_through(model):
    from attnviz.model.document_model import MAX_NUMBERS

    model.set_output_projection(False)
    d_k = MAX_NUMBERS // (model.n_heads * 1024)
    model.resize(d_model=1024)
    model.resize(d_k=d_k, d_v=d_k)  # W_q holds exactly MAX_NUMBERS
    assert model.document().W_q.size == MAX_NUMBERS


def test_set_sentence_refuses_non_text(model):
    with pytest.raises(AttnvizError):
        model.set_sentence(3)
    assert model.undo_stack.count() == 0


def test_set_matrix_refuses_bad_shape_and_values(model):
    with pytest.raises(AttnvizError):
        model.set_matrix("W_q", 0, np.zeros((3, 2)))
    with pytest.raises(AttnvizError):
        model.set_matrix("W_q", 0, np.full((4, 2), np.nan))
    assert model.undo_stack.count() == 0


# ---------------------------------------------------------------------------
# token embedding of an unknown word


def test_set_token_embedding_of_unknown_word_adds_it_in_one_step(model, qtbot):
    model.set_sentence("the Zebra sat")
    model.undo_stack.setClean()
    before = model.document()
    count = model.undo_stack.count()
    rec = Recorder(model)
    model.set_token_embedding(1, 2, 0.5)
    doc = model.document()
    assert doc.vocab == (*before.vocab, "zebra")
    expected_row = word_vector("zebra", 4)
    expected_row[2] = 0.5
    assert np.array_equal(doc.embeddings[-1], expected_row)
    assert np.array_equal(doc.embeddings[:-1], before.embeddings)
    assert model.undo_stack.count() == count + 1
    assert rec.of("structureChanged")
    settle(qtbot)
    assert model.result.token_ids == (0, 5, 2)
    assert_matches_reference(model.result, doc, ["the", "Zebra", "sat"])
    model.undo_stack.undo()
    after_undo = model.document()
    assert after_undo.vocab == before.vocab
    assert np.array_equal(after_undo.embeddings, before.embeddings)
    assert snapshot_equal(after_undo, before) and model.undo_stack.isClean()
    model.undo_stack.redo()
    assert snapshot_equal(model.document(), doc)


def test_set_token_embedding_of_known_word_edits_its_row(model):
    model.set_token_embedding(4, 1, -0.5)  # "the" (second one) is vocab row 0
    assert model.document().embeddings[0, 1] == -0.5
    assert model.document().vocab == load_example("two-heads").vocab
    assert model.undo_stack.count() == 1


def test_set_token_embedding_refuses_nan(model):
    model.set_sentence("zebra")
    count = model.undo_stack.count()
    before = model.document()
    with pytest.raises(AttnvizError):
        model.set_token_embedding(0, 0, float("nan"))
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == count


# ---------------------------------------------------------------------------
# no widgets


def test_model_imports_no_widgets():
    script = (
        "import sys\n"
        "import attnviz.model\n"
        "from attnviz.model import DocumentModel\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "app = QCoreApplication([])\n"
        "m = DocumentModel()\n"
        "m.set_cell('W_q', 0, 0, 0, 2.0)\n"
        "assert m.result.output.shape[0] == 2\n"
        "bad = sorted(n for n in sys.modules if n.startswith(('PySide6.QtWidgets', 'pyqtgraph', 'attnviz.gui')))\n"
        "print('BAD' if bad else 'OK', bad)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK []", proc.stdout


# ---------------------------------------------------------------------------
# random actions

WORDS = ["the", "cat", "sat", "on", "mat", "zebra", "Dog", "it", "a", "The"]


def _random_action(m: DocumentModel, rng: random.Random) -> str:
    kind = rng.choice(["cell", "cell", "cell", "sentence", "toggle", "temperature", "pe", "resize", "W_o",
                       "randomize", "undo", "undo", "redo", "fill", "word", "token"])
    if kind == "cell":
        name = rng.choice(list(FIELDS))
        head = rng.randrange(m.n_heads)
        a = m.document().W_o if name == "W_o" else m.document().embeddings if name == "embeddings" else None
        rows = m.d_model if name in ("W_q", "W_k", "W_v") else (a.shape[0] if a is not None else 1)
        cols = {"W_q": m.d_k, "W_k": m.d_k, "W_v": m.d_v}.get(name, a.shape[1] if a is not None else 1)
        m.set_cell(name, head, rng.randrange(rows), rng.randrange(cols), round(rng.uniform(-3, 3), 2))
    elif kind == "sentence":
        m.set_sentence(" ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 7))))
    elif kind == "toggle":
        name = rng.choice(["scale", "causal", "residual"])
        m.set_option(name, not getattr(m.config, name))
    elif kind == "temperature":
        m.set_option("temperature", rng.choice([0.1, 0.5, 1.0, 2.0, 7.5]))
    elif kind == "pe":
        m.set_option("positional_encoding", rng.choice(["sinusoidal", "none"]))
    elif kind == "resize":
        dim = rng.choice(["d_model", "d_k", "d_v", "n_heads"])
        m.resize(fill=rng.choice(["random", "zeros"]), **{dim: rng.randint(1, 5)})
    elif kind == "W_o":
        m.set_output_projection(not m.has_W_o)
    elif kind == "randomize":
        m.randomize()
    elif kind == "undo":
        m.undo_stack.undo()
    elif kind == "redo":
        m.undo_stack.redo()
    elif kind == "fill":
        name = rng.choice(["W_q", "W_k", "W_v"])
        m.fill_matrix(name, rng.randrange(m.n_heads), rng.choice(["zeros", "identity", "random"]))
    elif kind == "word":
        m.add_word(rng.choice(WORDS))
    elif kind == "token":
        n = len(m.result.tokens)
        if n:
            m.set_token_embedding(rng.randrange(n), rng.randrange(m.d_model), round(rng.uniform(-2, 2), 2))
    return kind


def _state(m: DocumentModel) -> Document:
    """What the model holds right now, read past its cached ``document()`` snapshot."""
    return Document(vocab=tuple(m._vocab), config=m._config, sentence=m._sentence, **m._arrays)


def _assert_result_fresh(m: DocumentModel) -> None:
    """The snapshot is the model's state, and its result (which reuses heads of the one before) is
    bit for bit a fresh pass over that state."""
    doc = _state(m)
    assert m.document().equals(doc)
    fresh = forward(doc)
    got = m.result
    assert got.tokens == fresh.tokens
    for name in ("x", "q", "k", "v", "scores", "logits", "weights", "heads", "concat", "output"):
        a, b = getattr(got, name), getattr(fresh, name)
        assert a.shape == b.shape and a.tobytes() == b.tobytes(), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_actions_keep_result_and_history_consistent(qtbot, seed):
    rng = random.Random(seed)
    start = load_example("two-heads")
    m = DocumentModel(start)
    refused = 0
    for step in range(300):
        before = _state(m)
        count = m.undo_stack.count()
        try:
            _random_action(m, rng)
        except AttnvizError:
            refused += 1
            assert _state(m).equals(before), step
            assert m.undo_stack.count() == count, step
        if step % 25 == 0:
            settle(qtbot)
        if rng.random() < 0.5:  # otherwise the next actions pile up for one recompute
            _assert_result_fresh(m)
    settle(qtbot)
    _assert_result_fresh(m)
    final = m.document()
    assert_matches_reference(m.result, final, final.sentence.split(), tol=1e-9)
    # the whole history replays: back to the start bit for bit, then forward to the end
    while m.undo_stack.canRedo():
        m.undo_stack.redo()
    final = m.document()
    while m.undo_stack.canUndo():
        m.undo_stack.undo()
    assert m.document().equals(start)
    while m.undo_stack.canRedo():
        m.undo_stack.redo()
    assert m.document().equals(final)
    settle(qtbot)
    _assert_result_fresh(m)
    assert refused < 300


def test_an_edit_to_one_head_recomputes_only_that_head(model, qtbot, monkeypatch):
    from attnviz.engine import attention

    heads_computed: list[int] = []
    real = attention.attend
    monkeypatch.setattr(attention, "attend", lambda q, k, v, cfg: heads_computed.append(q.shape[0]) or
                        real(q, k, v, cfg))
    model.set_cell("W_q", 1, 0, 0, 2.5)
    settle(qtbot)
    model.undo_stack.undo()
    settle(qtbot)
    model.set_sentence("the cat sat")
    settle(qtbot)
    assert heads_computed == [1, 1, 2]  # two-heads has 2 heads; a new sentence changes both
    _assert_result_fresh(model)


def test_the_document_snapshot_is_shared_until_something_changes(model):
    first = model.document()
    assert model.document() is first
    model.set_cell("W_v", 0, 1, 1, 4.25)
    edited = model.document()
    assert edited is not first and edited.W_v[0, 1, 1] == 4.25 and first.W_v[0, 1, 1] != 4.25
    model.undo_stack.undo()
    assert snapshot_equal(model.document(), first)
    model.set_option("temperature", 3.0)
    assert model.document().config.temperature == 3.0
    model.set_sentence("a new sentence")
    assert model.document().sentence == "a new sentence"
    model.load(load_example("lets-go"))
    assert snapshot_equal(model.document(), load_example("lets-go"))


# ---------------------------------------------------------------------------
# bugs found while writing these tests, now fixed


def test_set_token_embedding_bad_column_on_unknown_word_changes_nothing(model):
    model.set_sentence("the zebra")
    before = model.document()
    count, index = model.undo_stack.count(), model.undo_stack.index()
    with pytest.raises(AttnvizError):
        model.set_token_embedding(1, 99, 0.5)
    assert snapshot_equal(model.document(), before)
    assert (model.undo_stack.count(), model.undo_stack.index()) == (count, index)
    assert model.undo_stack.canUndo()  # no macro left open
    model.undo_stack.undo()
    assert model.sentence == "The cat sat on the mat"


def test_set_token_embedding_position_out_of_range_raises_attnviz_error(model):
    before = model.document()
    with pytest.raises(AttnvizError):
        model.set_token_embedding(99, 0, 1.0)
    assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0


def test_set_cell_negative_index_is_refused_or_announced_truthfully(model):
    rec = Recorder(model)
    before = model.document()
    try:
        model.set_cell("W_q", -1, -1, 0, 5.0)
    except AttnvizError:
        assert snapshot_equal(model.document(), before) and model.undo_stack.count() == 0
        return
    assert rec.of("cellsChanged") == [("W_q", 1, 3, 0, 3, 0)]


@pytest.mark.parametrize("call", ["resize", "fill_matrix"])
def test_unknown_fill_raises_attnviz_error(model, call):
    before = model.document()
    with pytest.raises(AttnvizError):
        if call == "resize":
            model.resize(d_k=3, fill="bogus")
        else:
            model.fill_matrix("W_q", 0, "bogus")
    assert snapshot_equal(model.document(), before)


@pytest.mark.parametrize("kind", ["identity", "random", "zeros"])
def test_an_embeddings_fill_runs_over_the_words_each_once(model, kind):
    # "go" twice has one embedding: the identity's rows go to the words in the order they first occur
    model.set_sentence("go go Let's")
    model.flush()
    model.fill_token_embeddings(kind)
    model.flush()
    x = model.result.embeddings
    np.testing.assert_array_equal(x[0], x[1])
    if kind == "identity":
        np.testing.assert_array_equal(x, np.eye(4)[[0, 0, 1]])  # (d_model 4)
    elif kind == "random":
        assert not np.array_equal(x[0], x[2])
    else:
        np.testing.assert_array_equal(x, np.zeros((3, 4)))
    assert model.undo_stack.undoText() == "Fill embeddings with " + kind
