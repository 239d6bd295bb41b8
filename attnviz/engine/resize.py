"""Change a document's dimensions, keeping every value that still has a place.

Growing a dimension keeps the old values in the top-left block and fills the
new cells with either zeros or seeded random values (normal, σ = 0.5, rounded
to 2 decimals like the bundled examples). Shrinking drops the trailing
rows/columns/heads. ``W_o`` is (n_heads·d_v × d_model) and is laid out head by
head, so its rows are resized per head block.
"""

from __future__ import annotations

import numpy as np

from attnviz.engine.document import Document

FILLS = ("random", "zeros")


def new_values(shape: tuple[int, ...], fill: str, rng: np.random.Generator) -> np.ndarray:
    """Fresh values for cells that did not exist before."""
    if fill == "zeros":
        return np.zeros(shape)
    if fill != "random":
        raise ValueError(f"unknown fill {fill!r}; expected one of {FILLS}")
    return np.round(rng.normal(0.0, 0.5, shape), 2)


def resized(a: np.ndarray, shape: tuple[int, ...], fill: str, rng: np.random.Generator) -> np.ndarray:
    """``a`` cropped or grown to ``shape``, old values kept at the same indices."""
    out = new_values(shape, fill, rng)
    keep = tuple(slice(0, min(o, s)) for o, s in zip(a.shape, shape, strict=True))
    out[keep] = a[keep]
    return out


def resize_document(
    doc: Document,
    *,
    d_model: int | None = None,
    d_k: int | None = None,
    d_v: int | None = None,
    n_heads: int | None = None,
    fill: str = "random",
    seed: int = 0,
) -> Document:
    """A copy of ``doc`` with the given dimensions (None keeps the current one)."""
    d_model = doc.d_model if d_model is None else d_model
    d_k = doc.d_k if d_k is None else d_k
    d_v = doc.d_v if d_v is None else d_v
    n_heads = doc.n_heads if n_heads is None else n_heads
    if min(d_model, d_k, d_v, n_heads) < 1:
        raise ValueError("every dimension must be at least 1")
    rng = np.random.default_rng(seed)
    W_o = None
    if doc.W_o is not None:
        blocks = doc.W_o.reshape(doc.n_heads, doc.d_v, doc.d_model)              # (H, d_v, d_model)
        W_o = resized(blocks, (n_heads, d_v, d_model), fill, rng).reshape(n_heads * d_v, d_model)
    return doc.replace(
        embeddings=resized(doc.embeddings, (len(doc.vocab), d_model), fill, rng),
        W_q=resized(doc.W_q, (n_heads, d_model, d_k), fill, rng),
        W_k=resized(doc.W_k, (n_heads, d_model, d_k), fill, rng),
        W_v=resized(doc.W_v, (n_heads, d_model, d_v), fill, rng),
        W_o=W_o,
    )
