"""Sinusoidal positional encoding (Vaswani et al. 2017, section 3.5).

PE[p, 2i]   = sin(p / 10000^(2i/d_model))
PE[p, 2i+1] = cos(p / 10000^(2i/d_model))
with p the 0-based position. With an odd d_model the last column is a sine.
"""

from __future__ import annotations

import numpy as np

KINDS = ("sinusoidal", "none")


def positional_encoding(n: int, d_model: int, kind: str = "sinusoidal") -> np.ndarray:
    """The (n, d_model) matrix added to the token embeddings."""
    if kind == "none":
        return np.zeros((n, d_model))
    if kind != "sinusoidal":
        raise ValueError(f"unknown positional encoding {kind!r}; expected one of {KINDS}")
    p = np.arange(n)[:, None]                              # (n, 1)
    two_i = np.arange(0, d_model, 2)                       # (ceil(d/2),)
    angle = p / 10000.0 ** (two_i / d_model)               # (n, ceil(d/2))
    pe = np.empty((n, d_model))                            # (n, d_model)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe
