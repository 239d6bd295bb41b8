"""The document: vocabulary, embeddings, weight matrices, options and sentence.

This is the value a weights file holds and the forward pass reads. It is a
frozen dataclass of read-only float64 arrays; the Qt document model keeps the
mutable copy and hands snapshots of this type to the engine.

Shapes (row-vector convention, a token is a row and we compute ``x @ W``)::

    embeddings  (vocab, d_model)
    W_q, W_k    (n_heads, d_model, d_k)
    W_v         (n_heads, d_model, d_v)
    W_o         (n_heads * d_v, d_model) or None
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attnviz.engine.errors import AttnvizError
from attnviz.engine.positional import KINDS
from attnviz.engine.tokenizer import check_length, check_text

MATRICES = ("embeddings", "W_q", "W_k", "W_v", "W_o")
HEAD_MATRICES = ("W_q", "W_k", "W_v")


@dataclass(frozen=True)
class Config:
    scale: bool = True
    causal: bool = False
    temperature: float = 1.0
    positional_encoding: str = "sinusoidal"
    residual: bool = False

    def __post_init__(self) -> None:
        for name in ("scale", "causal", "residual"):
            if not isinstance(getattr(self, name), bool):
                raise AttnvizError(f"config.{name} must be true or false, got {getattr(self, name)!r}")
        t = self.temperature
        try:
            valid = not isinstance(t, bool) and isinstance(t, int | float) and np.isfinite(float(t)) and t > 0
        except OverflowError:  # an int too large for a float
            valid = False
        if not valid:
            raise AttnvizError(f"config.temperature must be a finite number > 0, got {short_repr(t)}")
        object.__setattr__(self, "temperature", float(t))
        if self.positional_encoding not in KINDS:
            raise AttnvizError(
                f"config.positional_encoding must be one of {', '.join(KINDS)}, got {self.positional_encoding!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """Missing keys take the defaults; unknown keys are an error."""
        if not isinstance(data, dict):
            raise AttnvizError(f"config must be an object, got {type(data).__name__}")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise AttnvizError(f"config has unknown key {sorted(unknown)[0]!r}")
        return cls(**data)


def short_repr(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Document:
    vocab: tuple[str, ...]
    embeddings: np.ndarray
    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    W_o: np.ndarray | None = None
    config: Config = field(default_factory=Config)
    sentence: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocab", tuple(self.vocab))
        for name in MATRICES:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        validate(self)

    @property
    def d_model(self) -> int:
        return self.embeddings.shape[1]

    @property
    def n_heads(self) -> int:
        return self.W_q.shape[0]

    @property
    def d_k(self) -> int:
        return self.W_q.shape[2]

    @property
    def d_v(self) -> int:
        return self.W_v.shape[2]

    def replace(self, **changes: Any) -> Document:
        return dataclasses.replace(self, **changes)

    def equals(self, other: Document) -> bool:
        """Bit-exact equality of every field (``==`` on arrays is ambiguous)."""
        if (self.vocab, self.config, self.sentence) != (other.vocab, other.config, other.sentence):
            return False
        for name in MATRICES:
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None):
                return False
            if a is not None and (a.shape != b.shape or a.tobytes() != b.tobytes()):
                return False
        return True


def validate(doc: Document) -> None:
    """Raise AttnvizError naming the first inconsistency in ``doc``."""
    if not doc.vocab:
        raise AttnvizError("vocab is empty; it must hold at least one word")
    for i, word in enumerate(doc.vocab):
        if not isinstance(word, str) or not word or word != word.lower() or word.strip() != word:
            raise AttnvizError(f"vocab[{i}] must be a non-empty lower-case word without outer spaces, got {word!r}")
        check_text(word, f"vocab[{i}]")
    seen: dict[str, int] = {}
    for i, word in enumerate(doc.vocab):
        if word in seen:
            raise AttnvizError(f"vocab has {word!r} twice (entries {seen[word]} and {i})")
        seen[word] = i
    if doc.embeddings.ndim != 2:
        raise AttnvizError(f"embeddings must be 2-D (vocab × d_model), got shape {doc.embeddings.shape}")
    if doc.embeddings.shape[0] != len(doc.vocab):
        raise AttnvizError(f"embeddings has {doc.embeddings.shape[0]} rows but vocab has {len(doc.vocab)} words")
    d_model = doc.embeddings.shape[1]
    if d_model < 1:
        raise AttnvizError("embeddings must have at least one column (d_model ≥ 1)")
    for name in HEAD_MATRICES:
        w = getattr(doc, name)
        if w.ndim != 3:
            raise AttnvizError(f"{name} must be 3-D (n_heads × d_model × d), got shape {w.shape}")
        if w.shape[0] < 1 or w.shape[2] < 1:
            raise AttnvizError(f"{name} has shape {w.shape}; it needs at least one head and one column")
        if w.shape[1] != d_model:
            raise AttnvizError(f"{name} has {w.shape[1]} rows but embeddings has d_model {d_model}")
    if doc.W_k.shape != doc.W_q.shape:
        raise AttnvizError(f"W_k has shape {doc.W_k.shape} but W_q has {doc.W_q.shape}")
    if doc.W_v.shape[0] != doc.W_q.shape[0]:
        raise AttnvizError(f"W_v has {doc.W_v.shape[0]} heads but W_q has {doc.W_q.shape[0]}")
    if doc.W_o is not None:
        width = doc.W_v.shape[0] * doc.W_v.shape[2]
        if doc.W_o.ndim != 2 or doc.W_o.shape[0] != width:
            raise AttnvizError(f"W_o has shape {doc.W_o.shape} but must have n_heads·d_v = {width} rows")
        if doc.W_o.shape[1] != d_model:
            raise AttnvizError(f"W_o has {doc.W_o.shape[1]} columns but must have d_model = {d_model}")
    for name in MATRICES:
        a = getattr(doc, name)
        if a is not None and not np.isfinite(a).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise AttnvizError(f"{name}{list(bad)} is {a[bad]}, but every value must be finite")
    if doc.config.residual:
        width = doc.W_o.shape[1] if doc.W_o is not None else doc.W_v.shape[0] * doc.W_v.shape[2]
        if width != d_model:
            raise AttnvizError(
                f"residual needs the output width ({width}) to equal d_model ({d_model}); add W_o or change d_v"
            )
    if not isinstance(doc.sentence, str):
        raise AttnvizError(f"sentence must be a string, got {type(doc.sentence).__name__}")
    check_length(doc.sentence)


def as_heads(w: Any, name: str) -> np.ndarray:
    """Accept a 2-D (d_model × d) matrix as one head, as hand-written files may."""
    a = np.asarray(w)
    return a[None] if a.ndim == 2 else a
