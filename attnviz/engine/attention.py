"""Multi-head scaled dot-product self-attention, forward only, every step kept.

This is the textbook computation (Vaswani et al. 2017) written for reading,
not for speed: one line per step, named after it, with its shape. All heads
are computed at once by broadcasting over a leading head axis. Nothing here is
trained or batched; it is the function attnviz shows on screen.

    x       = embedding + PE                    the position-encoded tokens
    q, k, v = x W_q, x W_k, x W_v               per head
    scores  = q kᵀ                              raw similarity, query i vs key j
    logits  = scores / √d_k / temperature       (−∞ above the diagonal if causal)
    att     = softmax(logits) row by row        the attention weights
    y_h     = att v                             per-head output
    y       = concat_h(y_h) [W_o] [+ x]

Heads are independent, so ``forward`` can take an earlier result and copy
from it the heads whose q, k and v have not changed: an edit to one head's
weights then costs one head's attention. The arrays are bit-identical to a
fresh pass because NumPy computes a stack of matrix products, and the
row-wise reductions of softmax, one head at a time: a head's numbers do not
depend on which other heads are computed with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnviz.engine.document import Config, Document
from attnviz.engine.embedding import lookup
from attnviz.engine.positional import positional_encoding
from attnviz.engine.tokenizer import check_length


@dataclass(frozen=True)
class AttentionResult:
    """Every intermediate of one forward pass; arrays are read-only.

    Per-head arrays have the head as their first axis.
    """

    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]   # index into the vocabulary, -1 for an unknown word
    embeddings: np.ndarray       # (n, d_model)
    pe: np.ndarray               # (n, d_model)
    x: np.ndarray                # (n, d_model)
    q: np.ndarray                # (H, n, d_k)
    k: np.ndarray                # (H, n, d_k)
    v: np.ndarray                # (H, n, d_v)
    scores: np.ndarray           # (H, n, n)
    logits: np.ndarray           # (H, n, n), -inf where masked
    weights: np.ndarray          # (H, n, n), rows sum to 1
    heads: np.ndarray            # (H, n, d_v)
    concat: np.ndarray           # (n, H*d_v)
    output: np.ndarray           # (n, d_out)
    config: Config               # the options it was computed with

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def n_heads(self) -> int:
        return self.q.shape[0]

    def overflow(self) -> str | None:
        """What of this pass overflowed a 64-bit float, the earliest step first, or None.

        A score beyond ±1.8e308 is ±inf, or NaN where inf met 0. The softmax of such
        a row is its limit (see ``softmax``), which need not be the weights of the
        true scores, and an output can overflow by itself. Finite scores always give
        finite weights, so the weights need no scan (at 512 tokens × 8 heads each
        scan is ≈ 0.5 ms of an edit).
        """
        for what, a in (("similarity scores", self.scores), ("outputs", self.output)):
            if not np.isfinite(a).all():
                return what
        return None


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` that stays finite for any input without NaN.

    It exponentiates :func:`shifted`, which is at most 0, and normalises each row.
    """
    e = shifted(logits, temperature)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def shifted(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``(logits − row max) / temperature``, a new array, at most 0: what softmax exponentiates.

    Subtracting the row maximum keeps exp() ≤ 1, and doing it before dividing
    by the temperature means a temperature near 0 cannot overflow: the
    quotient is ≤ 0, so the largest entries keep weight and the rest tend to 0.
    A row holding +inf gives its weight to those entries equally (the limit of
    growing logits). A row that is −inf throughout (every logit overflowed,
    e.g. at a temperature near 0) has no defined limit; it is spread evenly
    rather than turned into NaN. A NaN logit (an overflowed inf · 0) has no
    limit either: its row is NaN, unless the row also holds +inf.
    """
    top = logits.max(axis=-1, keepdims=True, initial=-np.inf)
    # a row holding +inf, or −inf throughout, shows in its maximum; only a NaN (overflowed
    # inf · 0) can hide a +inf there, so the whole array is scanned only then
    if np.isinf(top).any() or (np.isnan(top).any() and np.isposinf(logits).any()):
        logits = _limits(logits)
        top = logits.max(axis=-1, keepdims=True, initial=-np.inf)
    # in place after the first subtraction: at 512 tokens × 8 heads each pass is 16 MB
    e = logits - top
    if temperature != 1.0:
        e /= temperature
    return e


def _limits(logits: np.ndarray) -> np.ndarray:
    """Logits whose softmax is the limit: +inf entries share a row, all -inf spreads evenly."""
    posinf = np.isposinf(logits)
    rows = posinf.any(axis=-1, keepdims=True)
    logits = np.where(rows, np.where(posinf, 0.0, -np.inf), logits)
    return np.where(np.isneginf(logits).all(axis=-1, keepdims=True), 0.0, logits)


def causal_mask(n: int) -> np.ndarray:
    """True where query i may look at key j, i.e. j <= i."""
    return np.tril(np.ones((n, n), dtype=bool))


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, cfg: Config) -> tuple[np.ndarray, ...]:
    """softmax(q kᵀ / √d_k / T) v for each head: (scores, logits, weights, per-head output)."""
    n, d_k = q.shape[-2:]
    scores = q @ k.swapaxes(-1, -2)                                    # (H, n, n)
    scaled = scores / (np.sqrt(d_k) if cfg.scale else 1.0)             # (H, n, n)
    if cfg.causal:
        scaled = np.where(causal_mask(n), scaled, -np.inf)             # (H, n, n)
    logits = scaled / cfg.temperature if cfg.temperature != 1.0 else scaled  # (H, n, n)
    att = softmax(scaled, cfg.temperature)                             # (H, n, n) = softmax(logits)
    y_h = att @ v                                                      # (H, n, d_v)
    return scores, logits, att, y_h


def forward(doc: Document, sentence: str | None = None, reuse: AttentionResult | None = None) -> AttentionResult:
    """Run the whole pass on ``sentence`` (default: the document's own).

    ``reuse``, an earlier result, lends the heads it already holds (see the module docstring).
    """
    cfg = doc.config
    tokens = tuple(check_length(doc.sentence if sentence is None else sentence))
    n = len(tokens)

    emb, ids = lookup(tokens, doc.vocab, doc.embeddings)               # (n, d_model)
    pe = positional_encoding(n, doc.d_model, cfg.positional_encoding)  # (n, d_model)
    x = emb + pe                                                       # (n, d_model)

    q = x @ doc.W_q                                                    # (H, n, d_k)
    k = x @ doc.W_k                                                    # (H, n, d_k)
    v = x @ doc.W_v                                                    # (H, n, d_v)
    stale = _stale_heads(q, k, v, cfg, reuse)                          # S of the H heads
    fresh = attend(q[stale], k[stale], v[stale], cfg)                  # (S, n, n) ×3, (S, n, d_v)
    held = (reuse.scores, reuse.logits, reuse.weights, reuse.heads) if reuse else (None,) * 4
    scores, logits, att, y_h = (_splice(old, stale, new, doc.n_heads)  # (H, n, n) ×3, (H, n, d_v)
                                for old, new in zip(held, fresh, strict=True))

    y = y_h.transpose(1, 0, 2).reshape(n, doc.n_heads * doc.d_v)      # (n, H*d_v)
    concat = y
    if doc.W_o is not None:
        y = y @ doc.W_o                                                # (n, d_model)
    if cfg.residual:
        y = y + x                                                      # (n, d_model)

    arrays = dict(embeddings=emb, pe=pe, x=x, q=q, k=k, v=v, scores=scores, logits=logits,
                  weights=att, heads=y_h, concat=concat, output=y)
    for a in arrays.values():
        a.flags.writeable = False
    return AttentionResult(tokens=tokens, token_ids=ids, config=cfg, **arrays)


def _stale_heads(q: np.ndarray, k: np.ndarray, v: np.ndarray, cfg: Config,
                 reuse: AttentionResult | None) -> list[int]:
    """The heads whose attention ``reuse`` does not hold: all of them, unless it ran on the same
    shapes and attention options; then those whose q, k or v differ in any bit."""
    heads = list(range(q.shape[0]))
    if reuse is None or (reuse.q.shape, reuse.v.shape, _attention_options(reuse.config)) != \
            (q.shape, v.shape, _attention_options(cfg)):
        return heads
    return [h for h in heads if any(a[h].tobytes() != b[h].tobytes()
                                    for a, b in ((q, reuse.q), (k, reuse.k), (v, reuse.v)))]


def _attention_options(cfg: Config) -> tuple:
    """What ``attend`` reads from the options (the rest only changes x or the output)."""
    return cfg.scale, cfg.causal, cfg.temperature


def _splice(old: np.ndarray | None, stale: list[int], new: np.ndarray, n_heads: int) -> np.ndarray:
    """The (H, …) array made of ``new`` for the ``stale`` heads and ``old`` for the rest.

    ``new`` itself when every head is stale, ``old`` itself when none is:
    results are read-only, so they may share arrays.
    """
    if len(stale) == n_heads:
        return new
    if not stale:
        return old
    out = old.copy()
    out[stale] = new
    return out
