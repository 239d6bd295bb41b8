"""Token embeddings: vocabulary look-up, with a stable vector for unknown words.

A word that is not in the vocabulary still gets a vector, so any sentence can
be typed. The vector is derived from the word alone: the 8-byte BLAKE2b digest
(``digest_size=8``, itself a different hash from the first 8 bytes of the full
one) of its UTF-8 lower-case form, read as a little-endian integer, seeds
NumPy's PCG64 generator, which
draws ``d_model`` standard normals, rounded to 2 decimals so a person can read
and retype them. Neither Python's ``hash()`` (salted per process) nor the
platform is involved, so the same word gets the same vector on every run and
machine. The first ``d`` entries do not depend on ``d_model``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from attnviz.engine.tokenizer import vocab_key


def word_seed(word: str) -> int:
    digest = hashlib.blake2b(vocab_key(word).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def unknown_word_vector(word: str, d_model: int) -> np.ndarray:
    """The deterministic (d_model,) vector of a word outside the vocabulary."""
    rng = np.random.Generator(np.random.PCG64(word_seed(word)))
    return np.round(rng.standard_normal(d_model), 2)


def lookup(tokens: Sequence[str], vocab: Sequence[str], embeddings: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Rows of ``embeddings`` for ``tokens`` and each token's vocabulary index (-1 if unknown)."""
    index = {word: i for i, word in enumerate(vocab)}
    d_model = embeddings.shape[1]
    ids = tuple(index.get(vocab_key(t), -1) for t in tokens)
    rows = [embeddings[i] if i >= 0 else unknown_word_vector(t, d_model) for t, i in zip(tokens, ids, strict=True)]
    emb = np.array(rows, dtype=float).reshape(len(tokens), d_model)  # (n, d_model)
    return emb, ids
