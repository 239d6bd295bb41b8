"""A deliberately naive reference for the attention pass, written from the formulas.

Plain Python lists, loops, ``math.exp``/``math.sin``/``math.cos``. No NumPy and
nothing from ``attnviz``: the tests compare the engine against this, so it must
not share code (or mistakes) with it.

Spec (row-vector convention, a token is a row)::

    Q_h = X W_q[h],  K_h = X W_k[h],  V_h = X W_v[h]
    S_h = Q_h K_hᵀ
    L_h = S_h / sqrt(d_k) (if scale) / temperature;  L_h[i][j] = -inf for j > i (if causal)
    A_h = softmax of each row of L_h (max subtracted)
    O_h = A_h V_h
    Y   = [O_0 | O_1 | ...] (head 0's columns first)  [@ W_o]  [+ X]

    PE[p][2i]   = sin(p / 10000^(2i / d_model))
    PE[p][2i+1] = cos(p / 10000^(2i / d_model))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Matrix = list[list[float]]


def matmul(a: Matrix, b: Matrix, inner: int | None = None) -> Matrix:
    """(n × m) times (m × p) by three loops. ``inner`` is m when a has no rows to tell it."""
    m = len(b) if inner is None else inner
    p = len(b[0]) if b else 0
    out = []
    for i in range(len(a)):
        row = []
        for j in range(p):
            total = 0.0
            for t in range(m):
                total += a[i][t] * b[t][j]
            row.append(total)
        out.append(row)
    return out


def transpose(a: Matrix, cols: int) -> Matrix:
    """(n × cols) -> (cols × n); ``cols`` is given because a may have no rows."""
    return [[a[i][j] for i in range(len(a))] for j in range(cols)]


def softmax_row(row: list[float]) -> list[float]:
    """exp(z - max) / sum, with -inf entries contributing exactly 0."""
    m = max(row)
    e = [math.exp(z - m) if z != -math.inf else 0.0 for z in row]
    s = sum(e)
    return [x / s for x in e]


def positional_encoding(n: int, d_model: int, kind: str = "sinusoidal") -> Matrix:
    if kind == "none":
        return [[0.0] * d_model for _ in range(n)]
    assert kind == "sinusoidal", kind
    pe = []
    for p in range(n):
        row = []
        for col in range(d_model):
            two_i = col - (col % 2)          # the even index this column's pair starts at
            angle = p / math.pow(10000.0, two_i / d_model)
            row.append(math.sin(angle) if col % 2 == 0 else math.cos(angle))
        pe.append(row)
    return pe


@dataclass
class Reference:
    x: Matrix
    q: list[Matrix]          # per head
    k: list[Matrix]
    v: list[Matrix]
    scores: list[Matrix]
    logits: list[Matrix]
    weights: list[Matrix]
    heads: list[Matrix]
    concat: Matrix
    output: Matrix


def attention(
    x: Matrix,
    W_q: list[Matrix],
    W_k: list[Matrix],
    W_v: list[Matrix],
    W_o: Matrix | None,
    *,
    d_model: int,
    scale: bool = True,
    causal: bool = False,
    temperature: float = 1.0,
    residual: bool = False,
) -> Reference:
    """The whole pass on the position-encoded rows ``x`` (n × d_model)."""
    n = len(x)
    n_heads = len(W_q)
    d_k = len(W_q[0][0])
    d_v = len(W_v[0][0])
    qs, ks, vs, ss, ls, ws, hs = [], [], [], [], [], [], []
    for h in range(n_heads):
        q = matmul(x, W_q[h], d_model)
        k = matmul(x, W_k[h], d_model)
        v = matmul(x, W_v[h], d_model)
        s = matmul(q, transpose(k, d_k), d_k)  # S[i][j] = sum_t Q[i][t] K[j][t]
        logits = []
        for i in range(n):
            row = []
            for j in range(n):
                z = s[i][j]
                if scale:
                    z = z / math.sqrt(d_k)
                z = z / temperature
                if causal and j > i:
                    z = -math.inf
                row.append(z)
            logits.append(row)
        weights = [softmax_row(row) for row in logits]
        out = []
        for i in range(n):
            out.append([sum(weights[i][j] * v[j][c] for j in range(n)) for c in range(d_v)])
        qs.append(q)
        ks.append(k)
        vs.append(v)
        ss.append(s)
        ls.append(logits)
        ws.append(weights)
        hs.append(out)
    concat = [[hs[h][i][c] for h in range(n_heads) for c in range(d_v)] for i in range(n)]
    y = [row[:] for row in concat]
    if W_o is not None:
        y = matmul(concat, W_o, n_heads * d_v)
    if residual:
        y = [[y[i][c] + x[i][c] for c in range(d_model)] for i in range(n)]
    return Reference(x=x, q=qs, k=ks, v=vs, scores=ss, logits=ls, weights=ws, heads=hs, concat=concat, output=y)
