"""The document model: the one object that owns what the user is editing.

It holds the sentence, vocabulary, embeddings, weight matrices and options,
routes every change through a QUndoStack, and recomputes the attention pass
lazily: edits mark the result stale and schedule one recompute for the next
event-loop turn, so a burst of edits costs one pass and one ``resultChanged``.

QtCore plus QtGui's QUndoStack only; it knows nothing about widgets.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from attnviz.engine import AttentionResult, AttnvizError, Config, Document, causal_mask, forward
from attnviz.engine.document import HEAD_MATRICES, MATRICES
from attnviz.engine.embedding import unknown_word_vector
from attnviz.engine.resize import FILLS, new_values, resize_document
from attnviz.engine.tokenizer import check_length, vocab_key
from attnviz.model import commands
from attnviz.model.naming import embedding_name, quoted

# The largest d_model, d_k, d_v or number of heads the window works with: larger would not fit on a
# screen as a table (`attnviz compute` and `convert` take any size).
MAX_DIMENSION = 4096
# What a resize may make one matrix hold (32 MB of float64): past it, filling the matrices
# alone would hold the window up for seconds, and 4096 in every box asks for 512 GiB.
MAX_NUMBERS = 2**22


def check_dimensions(doc: Document) -> None:
    """AttnvizError naming a dimension past what the window works with."""
    for name, n in (("d_model", doc.d_model), ("n_heads", doc.n_heads), ("d_k", doc.d_k), ("d_v", doc.d_v)):
        if n > MAX_DIMENSION:
            raise AttnvizError(f"{name} is {n:,}; the window works with at most {MAX_DIMENSION:,} "
                               "(attnviz compute and convert take any size)")


class DocumentModel(QObject):
    """Owns one attention document and its undo history."""

    sentenceChanged = Signal(str)
    # name, head (-1 for embeddings/W_o), top, left, bottom, right (inclusive)
    cellsChanged = Signal(str, int, int, int, int, int)
    # dimensions, vocabulary or presence of W_o changed: views reset
    structureChanged = Signal()
    configChanged = Signal(str)
    # a whole new document (open, new): views reset, selection clears
    documentReset = Signal()
    resultChanged = Signal()

    def __init__(self, doc: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._result: AttentionResult | None = None
        self._snapshot: Document | None = None  # document() until the next change
        self._stale = True
        self._recompute_count = 0
        self.last_compute_seconds = 0.0
        self._fill_seed = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self._load(doc if doc is not None else default_document())

    # ---- reading -------------------------------------------------------
    def document(self) -> Document:
        """An immutable snapshot of everything, as a weights file would hold it."""
        if self._snapshot is None:
            self._snapshot = Document(vocab=tuple(self._vocab), config=self._config, sentence=self._sentence,
                                      **self._arrays)
        return self._snapshot

    @property
    def result(self) -> AttentionResult:
        """The attention pass for the current document (computed now if stale)."""
        if self._stale:
            self.flush()
        assert self._result is not None
        return self._result

    @property
    def recompute_count(self) -> int:
        return self._recompute_count

    @property
    def recompute_pending(self) -> bool:
        """Whether an edit awaits the coalesced recompute (``result`` would compute it now)."""
        return self._stale

    @property
    def sentence(self) -> str:
        return self._sentence

    @property
    def config(self) -> Config:
        return self._config

    @property
    def vocab(self) -> tuple[str, ...]:
        return tuple(self._vocab)

    @property
    def d_model(self) -> int:
        return self._arrays["embeddings"].shape[1]

    @property
    def n_heads(self) -> int:
        return self._arrays["W_q"].shape[0]

    @property
    def d_k(self) -> int:
        return self._arrays["W_q"].shape[2]

    @property
    def d_v(self) -> int:
        return self._arrays["W_v"].shape[2]

    @property
    def has_W_o(self) -> bool:
        return self._arrays["W_o"] is not None

    def masked(self) -> np.ndarray:
        """(n, n) bool: the (query, key) pairs the causal mask hides (none when it is off)."""
        n = self.result.n_tokens
        return ~causal_mask(n) if self._config.causal else np.zeros((n, n), dtype=bool)

    def matrix(self, name: str, head: int = 0) -> np.ndarray:
        """A read-only view of one matrix (one head's slice for W_q/W_k/W_v)."""
        a = self._array(name)
        view = a[head] if name in HEAD_MATRICES else a
        view = view.view()
        view.flags.writeable = False
        return view

    # ---- editing (every method pushes an undo command) ------------------
    def set_cell(self, name: str, head: int, row: int, col: int, value: float) -> None:
        """Set one matrix cell; ``head`` is ignored for embeddings and W_o."""
        value = _finite(value, f"{name}[{row}, {col}]")
        index = (head, row, col) if name in HEAD_MATRICES else (row, col)
        a = self._array(name)
        # no Python wrap-around: views are told the indices exactly as given
        if any(not 0 <= i < n for i, n in zip(index, a.shape, strict=True)):
            raise AttnvizError(f"{name} has no cell {list(index)}; its shape is {a.shape}")
        if a[index] != value:
            self.undo_stack.push(commands.SetCell(self, name, index, value))

    def set_token_embedding(self, position: int, col: int, value: float) -> None:
        """Edit the embedding of the sentence's token at ``position``.

        An unknown word first joins the vocabulary with its deterministic
        vector, in the same undo step as the edit.
        """
        value = _finite(value, f"embedding[{position}, {col}]")
        tokens = self.result.tokens
        if not 0 <= position < len(tokens):
            raise AttnvizError(f"there is no token {position}; the sentence has {len(tokens)}")
        if not 0 <= col < self.d_model:
            raise AttnvizError(f"there is no embedding column {col}; d_model is {self.d_model}")
        word = vocab_key(tokens[position])
        if word in self._vocab:
            self.set_cell("embeddings", -1, self._vocab.index(word), col, value)
            return
        self.undo_stack.beginMacro(f"Edit {embedding_name(word, col)}")  # as a known word's edit is named
        try:
            self.add_word(word)
            self.set_cell("embeddings", -1, self._vocab.index(word), col, value)
        finally:
            self.undo_stack.endMacro()

    def set_token_embeddings(self, values: np.ndarray, text: str = "Set embeddings") -> None:
        """Give the sentence's tokens these (n_tokens, d_model) embeddings, as one undo step.

        Unknown words join the vocabulary; a word that occurs twice takes its last row.
        """
        tokens = self.result.tokens
        values = np.asarray(values, dtype=float)
        if values.shape != (len(tokens), self.d_model):
            need = (len(tokens), self.d_model)
            raise AttnvizError(f"embeddings for this sentence need shape {need}, got {values.shape}")
        if not np.isfinite(values).all():
            raise AttnvizError("embeddings: every value must be finite")
        doc = self.document()
        vocab, emb = list(doc.vocab), np.array(doc.embeddings)
        for token, row in zip(tokens, values, strict=True):
            word = vocab_key(token)
            if word not in vocab:
                vocab.append(word)
                emb = np.vstack([emb, row])
            emb[vocab.index(word)] = row
        self._push_document(doc.replace(vocab=tuple(vocab), embeddings=emb), text)

    def fill_token_embeddings(self, kind: str) -> None:
        """The sentence's embeddings set to ``"zeros"``, ``"identity"`` or ``"random"`` (seeded).

        The fill runs over the sentence's words, each once, in the order they first occur: a word
        that occurs twice has one embedding, so "go go Let's" gets the identity's first two rows.
        """
        keys = [vocab_key(t) for t in self.result.tokens]
        words = list(dict.fromkeys(keys))
        rows = self._fill_values((len(words), self.d_model), kind)
        at = {word: k for k, word in enumerate(words)}
        values = rows[[at[key] for key in keys]].reshape(len(keys), self.d_model)  # (n_tokens, d_model)
        self.set_token_embeddings(values, f"Fill embeddings with {kind}")

    def add_word(self, word: str) -> None:
        """Add ``word`` to the vocabulary with the vector it already had as an unknown word."""
        word = vocab_key(word)
        if not word or word in self._vocab:
            return
        doc = self.document()
        emb = np.vstack([doc.embeddings, unknown_word_vector(word, self.d_model)])
        self._push_document(doc.replace(vocab=(*doc.vocab, word), embeddings=emb), f"Add {quoted(word)} to vocabulary")

    def set_matrix(self, name: str, head: int, values: np.ndarray, text: str | None = None) -> None:
        """Replace one matrix (one head of W_q/W_k/W_v) with ``values`` of the same shape."""
        values = np.asarray(values, dtype=float)
        current = self.matrix(name, head)
        if values.shape != current.shape:
            raise AttnvizError(f"{name} needs shape {current.shape}, got {values.shape}")
        if not np.isfinite(values).all():
            raise AttnvizError(f"{name}: every value must be finite")
        doc = self.document()
        new = np.array(getattr(doc, name))
        if name in HEAD_MATRICES:
            new[head] = values
        else:
            new = values
        self._push_document(doc.replace(**{name: new}), text or f"Set {name}")

    def fill_matrix(self, name: str, head: int, kind: str) -> None:
        """Set one matrix to ``"zeros"``, ``"identity"`` or ``"random"`` (seeded)."""
        values = self._fill_values(self.matrix(name, head).shape, kind)
        self.set_matrix(name, head, values, f"Fill {name} with {kind}")

    def set_sentence(self, text: str) -> None:
        if not isinstance(text, str):
            raise AttnvizError(f"the sentence must be text, got {type(text).__name__}")
        check_length(text)
        if text != self._sentence:
            self.undo_stack.push(commands.SetSentence(self, text))

    def set_option(self, name: str, value: Any) -> None:
        """Set one option of :class:`Config`; invalid values raise AttnvizError."""
        if name not in {f.name for f in dataclasses.fields(Config)}:
            raise AttnvizError(f"unknown option {name!r}")
        new = dataclasses.replace(self._config, **{name: value})
        self.document().replace(config=new)  # validates, e.g. residual against widths
        if getattr(new, name) != getattr(self._config, name):
            self.undo_stack.push(commands.SetOption(self, name, getattr(new, name)))

    def resize(self, *, fill: str = "random", **dims: int) -> None:
        """Change d_model, d_k, d_v or n_heads; existing values are kept."""
        if fill not in FILLS:
            raise AttnvizError(f"unknown fill {fill!r}; expected {' or '.join(FILLS)}")
        unknown = set(dims) - {"d_model", "d_k", "d_v", "n_heads"}
        if unknown:
            raise AttnvizError(f"unknown dimension {sorted(unknown)[0]!r}")
        for name, n in dims.items():
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_DIMENSION:
                raise AttnvizError(f"{name} must be a whole number from 1 to {MAX_DIMENSION}, got {n!r}")
        if all(getattr(self, name) == n for name, n in dims.items()):
            return
        self._check_sizes(**dims)
        new = resize_document(self.document(), fill=fill, seed=self._next_seed(), **dims)
        text = ", ".join(f"{name} = {n}" for name, n in dims.items())
        self._push_document(new, f"Resize: {text}")

    def _check_sizes(self, **dims: int) -> None:
        """Refuse, before allocating, a resize that would make a matrix it changes hold more than MAX_NUMBERS
        (a file's matrices may be larger: those a resize leaves alone stay as they are)."""
        now = {"d_model": self.d_model, "d_k": self.d_k, "d_v": self.d_v, "n_heads": self.n_heads}

        def shapes(d: dict[str, int]) -> dict[str, tuple[int, ...]]:
            out = {"embeddings": (len(self._vocab), d["d_model"]), "W_q": (d["n_heads"], d["d_model"], d["d_k"]),
                   "W_v": (d["n_heads"], d["d_model"], d["d_v"])}
            if self.has_W_o:
                out["W_o"] = (d["n_heads"] * d["d_v"], d["d_model"])
            return out

        before = shapes(now)
        for name, shape in shapes(now | dims).items():
            numbers = math.prod(shape)
            if shape != before[name] and numbers > MAX_NUMBERS:
                size = " × ".join(f"{n:,}" for n in shape)
                raise AttnvizError(f"{name} would hold {size} = {numbers:,} numbers; attnviz holds at most "
                                   f"{MAX_NUMBERS:,} numbers in a matrix")

    def set_output_projection(self, present: bool) -> None:
        """Add W_o (identity where square, else seeded random) or remove it."""
        if present == self.has_W_o:
            return
        doc = self.document()
        if present:
            shape = (self.n_heads * self.d_v, self.d_model)
            W_o = np.eye(*shape) if shape[0] == shape[1] else new_values(shape, "random", self._next_rng())
        else:
            W_o = None
        self._push_document(doc.replace(W_o=W_o), "Add W_o" if present else "Remove W_o")

    def randomize(self, seed: int | None = None, names: tuple[str, ...] = ("W_q", "W_k", "W_v", "W_o")) -> None:
        """Seeded random values for the named matrices, as one undo step."""
        rng = np.random.default_rng(self._next_seed() if seed is None else seed)
        doc = self.document()
        changes = {n: new_values(getattr(doc, n).shape, "random", rng) for n in names if getattr(doc, n) is not None}
        self._push_document(doc.replace(**changes), "Randomize weights")

    def replace_document(self, doc: Document, text: str) -> None:
        """Any other whole-document change, as one undo step."""
        self._push_document(doc, text)

    def load(self, doc: Document) -> None:
        """Start over on ``doc`` (File ▸ Open / New): a fresh, clean undo history."""
        self._load(doc)

    # ---- coalesced recompute -------------------------------------------
    def flush(self) -> None:
        """Recompute now if anything changed since the last pass."""
        self._timer.stop()
        if not self._stale:
            return
        start = time.perf_counter()
        with np.errstate(all="ignore"):  # huge weights may overflow; the views show inf
            self._result = forward(self.document(), reuse=self._result)
        self.last_compute_seconds = time.perf_counter() - start
        self._stale = False
        self._recompute_count += 1
        self.resultChanged.emit()

    def _invalidate(self) -> None:
        self._snapshot = None
        self._stale = True
        if not self._timer.isActive():
            self._timer.start()

    # ---- appliers: called only by undo commands --------------------------
    def _array(self, name: str) -> np.ndarray:
        if name not in MATRICES:
            raise AttnvizError(f"unknown matrix {name!r}; expected one of {', '.join(MATRICES)}")
        a = self._arrays[name]
        if a is None:
            raise AttnvizError(f"this document has no {name}")
        return a

    def _apply_cell(self, name: str, index: tuple[int, ...], value: float) -> None:
        self._arrays[name][index] = value
        head, row, col = index if len(index) == 3 else (-1, *index)
        self._invalidate()
        self.cellsChanged.emit(name, head, row, col, row, col)

    def _apply_sentence(self, text: str) -> None:
        self._sentence = text
        self._invalidate()
        self.sentenceChanged.emit(text)

    def _apply_option(self, name: str, value: Any) -> None:
        self._config = dataclasses.replace(self._config, **{name: value})
        self._invalidate()
        self.configChanged.emit(name)

    def _apply_document(self, doc: Document) -> None:
        """Become ``doc``, announcing only what differs."""
        old = self.document()
        self._set_state(doc)
        self._invalidate()
        if old.vocab != doc.vocab or any(_shape(old, n) != _shape(doc, n) for n in MATRICES):
            self.structureChanged.emit()
        else:
            for name in MATRICES:
                a, b = getattr(old, name), getattr(doc, name)
                if a is not None and not np.array_equal(a, b):
                    self._announce_matrix(name, a.shape)
        for f in dataclasses.fields(Config):
            if getattr(old.config, f.name) != getattr(doc.config, f.name):
                self.configChanged.emit(f.name)
        if old.sentence != doc.sentence:
            self.sentenceChanged.emit(doc.sentence)

    def _announce_matrix(self, name: str, shape: tuple[int, ...]) -> None:
        if name in HEAD_MATRICES:
            for h in range(shape[0]):
                self.cellsChanged.emit(name, h, 0, 0, shape[1] - 1, shape[2] - 1)
        else:
            self.cellsChanged.emit(name, -1, 0, 0, shape[0] - 1, shape[1] - 1)

    # ---- helpers -------------------------------------------------------
    def _push_document(self, doc: Document, text: str) -> None:
        check_dimensions(doc)
        self.undo_stack.push(commands.ReplaceDocument(self, doc, text))

    def _set_state(self, doc: Document) -> None:
        self._snapshot = None
        self._vocab = list(doc.vocab)
        self._arrays = {n: None if getattr(doc, n) is None else np.array(getattr(doc, n)) for n in MATRICES}
        self._config = doc.config
        self._sentence = doc.sentence

    def _load(self, doc: Document) -> None:
        check_dimensions(doc)
        self._set_state(doc)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._stale = True
        self.documentReset.emit()
        self.flush()

    def _fill_values(self, shape: tuple[int, ...], kind: str) -> np.ndarray:
        if kind not in ("zeros", "identity", "random"):
            raise AttnvizError(f"unknown fill {kind!r}; expected zeros, identity or random")
        return np.eye(*shape) if kind == "identity" else new_values(shape, kind, self._next_rng())

    def _next_seed(self) -> int:
        self._fill_seed += 1
        return self._fill_seed

    def _next_rng(self) -> np.random.Generator:
        return np.random.default_rng(self._next_seed())


def _shape(doc: Document, name: str) -> tuple[int, ...] | None:
    a = getattr(doc, name)
    return None if a is None else a.shape


def _finite(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise AttnvizError(f"{where}: {value!r} is not a number") from None
    if not np.isfinite(x):
        raise AttnvizError(f"{where}: {value!r} is not a finite number")
    return x


def default_document() -> Document:
    """The document a new window opens on: the notes' own "Let's go" example."""
    from attnviz.engine.examples import load_example

    return load_example("lets-go")
