"""What the calculation panel says: every step of self-attention for one token, as data.

For the selected query token and head, one function per step turns
``model.result`` into a small list of blocks (paragraphs, dot-product rows,
tables) made of segments (text, numbers, tokens). It is a report, not a second
engine: every value comes from the result or the document. The only
arithmetic done here is for display — the per-term products a·b of the dot
products, the softmax exponentials e^(logit − max) and their sum, and the sum
of the weights — and each line ends on the engine's own number, so if the two
ever disagreed the page would show it.

The blocks are rendered three ways — a QTextDocument for the panel
(calculation_page, calculation_document), plain text and Markdown for
export (calculation_text) — so what is shown, what is copied and what the
tests parse cannot drift apart.
A number that comes from a matrix or heatmap cell carries that cell as its
``source``: (name, head, row, col), head −1 for matrices that are not per head
(``embeddings``, ``W_o``, ``output``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from attnviz.engine import AttentionResult, Document
from attnviz.engine.attention import shifted
from attnviz.gui.numbers import MINUS
from attnviz.gui.numbers import component as sub
from attnviz.gui.numbers import format_number as fmt

# Above this many terms a sum is shown as its result only, with the terms behind "show terms".
FOLD_TERMS = 8
# Above this many components a vector, a table's columns or a list of per-component
# rows shows only the first COMPONENTS_SHOWN, behind the same switch as the terms:
# at d_model 512 the whole page would be thousands of numbers rebuilt per edit.
FOLD_COMPONENTS = 16
COMPONENTS_SHOWN = 8
# Above this many tokens only the heaviest keys are listed one by one.
KEYS_SHOWN = 12
# "List all keys" is offered up to this many: more would take seconds per edit.
MAX_KEYS_LISTED = 64
EMPTY_MESSAGE = "Type a sentence above to see the calculation."
NO_TOKEN_MESSAGE = "Click a token to see its calculation."

Source = tuple[str, int, int, int]


# ---- the blocks a step is made of --------------------------------------------
# Segments are named tuples rather than dataclasses: a page holds a thousand
# numbers or more and is rebuilt on every edit.
class Num(NamedTuple):
    """A printed number: the engine's value, its text, and the cell it came from."""

    value: float
    text: str
    source: Source | None = None


class Tok(NamedTuple):
    index: int
    text: str


class Mono(NamedTuple):
    """Inline formula text (monospace on screen, a code span in Markdown)."""

    text: str


Seg = str | Num | Tok | Mono


@dataclass
class Para:
    segs: list[Seg]
    kind: str = "text"  # "text", "note" (a remark) or "math" (a formula line)


@dataclass
class DotRow:
    """``label = a₁·b₁ + … [+ extra] = p₁ + … = result  tail``.

    ``terms`` is None when folded: then only ``label = result`` is printed.
    """

    label: list[Seg]
    terms: list[tuple[Num, Num, Num]] | None  # (a, b, a·b)
    result: Num
    extra: list[Num] = field(default_factory=list)  # plain addends, e.g. the residual x
    tail: list[list[Seg]] = field(default_factory=list)  # further cells after the result
    op: str = ""  # what is being computed, after the label in text: "#1 go: q · k = …"


@dataclass
class Dots:
    rows: list[DotRow]


@dataclass
class Table:
    header: list[str]
    rows: list[list[list[Seg]]]


@dataclass
class Toggle:
    """The "show terms" / "hide terms" link of a folded step."""

    shown: bool
    terms: int  # per sum; 0 when only long vectors fold
    what: str = "terms"  # or "keys", for a long sentence

    def link_text(self) -> str:
        if self.what == "keys":
            return "list only the heaviest keys" if self.shown else f"list all {self.terms} keys"
        if self.shown:
            return "hide the terms"
        return f"show all terms ({self.terms} per sum)" if self.terms else "show all components"

    def plain_text(self) -> str:
        if self.what == "keys":
            return "all keys listed" if self.shown else f"keys folded: {self.terms} in all"
        if self.shown:
            return "all terms shown"
        return f"terms folded: {self.terms} per sum" if self.terms else "long vectors folded"


Block = Para | Dots | Table | Toggle


@dataclass
class Step:
    number: int
    key: str
    title: str
    formula: str
    blocks: list[Block]
    values: dict[str, Any]  # the engine's numbers the step shows; arrays are views, lists made on request


@dataclass(frozen=True)
class Context:
    """Everything a step function reads, gathered once per regeneration."""

    r: AttentionResult
    doc: Document
    head: int
    i: int
    digits: int
    show_terms: bool
    show_all_keys: bool
    # the keys listed key by key: all of them, or when folded the heaviest KEYS_SHOWN
    keys: tuple[int, ...]

    def num(self, value: float, source: Source | None = None) -> Num:
        return Num(float(value), fmt(value, self.digits), source)

    def tok(self, j: int) -> Tok:
        return Tok(j, self.r.tokens[j])

    def fold(self, n_terms: int) -> bool:
        return n_terms > FOLD_TERMS and not self.show_terms

    def components(self, n: int) -> int:
        """How many of ``n`` components to print."""
        return COMPONENTS_SHOWN if n > FOLD_COMPONENTS and not self.show_terms else n


def down_column(name: str, head: int, col: int) -> Callable[[int], Source]:
    """Source of the t-th cell down one column of a matrix (a dot product's second factors)."""
    return lambda t: (name, head, t, col)


def along_row(name: str, head: int, row: int) -> Callable[[int], Source]:
    """Source of the c-th cell along one row (a vector read from a table or heatmap)."""
    return lambda c: (name, head, row, c)


def _vector(ctx: Context, values: Iterable[float], source: Any = None) -> list[Seg]:
    """``[a, b, c]`` as segments; ``source(c)`` gives each component's cell."""
    segs: list[Seg] = ["["]
    values = list(values.tolist() if isinstance(values, np.ndarray) else values)  # NumPy scalars format slowly
    shown = ctx.components(len(values))
    for c, v in enumerate(values[:shown]):
        if c:
            segs.append(", ")
        segs.append(ctx.num(v, source(c) if source else None))
    if shown < len(values):
        segs.append(f", … ({len(values) - shown} more)")
    segs.append("]")
    return segs


def _product_row(ctx: Context, label: list[Seg], a: np.ndarray, b: np.ndarray, result: Num,
                 b_source: Any = None, extra: Iterable[float] = (), a_source: Any = None) -> DotRow:
    """One dot product written out term by term (or folded when it has too many terms).

    ``a_source(t)`` / ``b_source(t)`` give the cell the t-th factor came from, if any.
    """
    terms = None
    if not ctx.fold(len(a)):
        terms = [(ctx.num(x, a_source(t) if a_source else None), ctx.num(y, b_source(t) if b_source else None),
                  ctx.num(float(x) * float(y)))
                 for t, (x, y) in enumerate(zip(a, b, strict=True))]
    return DotRow(label, terms, result, [ctx.num(e) for e in extra])


def shown_keys(weights: np.ndarray, i: int, show_all: bool) -> tuple[int, ...]:
    """Every key, or for a long sentence the KEYS_SHOWN heaviest ones (and the query itself), in order.

    Listing all 64 keys of a long sentence would bury the steps, and rebuilding
    that much text on every edit would freeze the window.
    """
    n = len(weights)
    if n <= KEYS_SHOWN or (show_all and n <= MAX_KEYS_LISTED):
        return tuple(range(n))
    heaviest = set(np.argsort(-weights, kind="stable")[: KEYS_SHOWN - 1].tolist()) | {i}
    return tuple(sorted(heaviest))


def _keys_note(ctx: Context) -> list[Block]:
    n = ctx.r.n_tokens
    toggle = [Toggle(ctx.show_all_keys, n, "keys")] if KEYS_SHOWN < n <= MAX_KEYS_LISTED else []
    if len(ctx.keys) == n:
        return toggle
    rest = float(np.delete(ctx.r.weights[ctx.head, ctx.i], list(ctx.keys)).sum())
    return [Para([f"Listed: the {len(ctx.keys)} keys with the largest weights; the other {n - len(ctx.keys)} "
                  f"keys share a weight of ", ctx.num(rest), "."], "note"), *toggle]


def _toggle_blocks(ctx: Context, n_terms: int, n_components: int = 0) -> list[Block]:
    """The show/hide switch, if a sum of ``n_terms`` or a vector of ``n_components`` folds."""
    if n_terms > FOLD_TERMS:
        return [Toggle(ctx.show_terms, n_terms)]
    return [Toggle(ctx.show_terms, 0)] if n_components > FOLD_COMPONENTS else []


# ---- the steps ---------------------------------------------------------------
def step_input(ctx: Context) -> Step:
    r, i = ctx.r, ctx.i
    vocab_row = r.token_ids[i]
    emb_src = along_row("embeddings", -1, vocab_row) if vocab_row >= 0 else None
    d = r.x.shape[1]
    shown = ctx.components(d)
    more: list[list[Seg]] = [[f"… {d - shown} more"]] if shown < d else []
    header = ["", *(f"d{sub(c)}" for c in range(shown)), *(["…"] if more else [])]
    emb, pe, x = (a[:shown].tolist() for a in (r.embeddings[i], r.pe[i], r.x[i]))
    rows = [
        [["embedding"], *([ctx.num(v, emb_src(c) if emb_src else None)] for c, v in enumerate(emb)), *more],
        [["+ position"], *([ctx.num(v)] for v in pe), *more],
        [["= x"], *([ctx.num(v)] for v in x), *more],
    ]
    pe_kind = ctx.doc.config.positional_encoding
    vector = ("Its vector is its embedding: the positional encoding, which would tell the model where the word "
              "stands, is off." if pe_kind == "none" else
              "Its vector is its embedding plus a positional encoding that tells the model where the word stands.")
    blocks: list[Block] = [
        Para(["Token ", ctx.tok(i), f" is word {i + 1} of {r.n_tokens}. {vector}"]),
        Table(header, rows),
    ]
    if vocab_row < 0:
        blocks.append(Para([ctx.tok(i), " is not in vocabulary: a fixed vector derived from the word."], "note"))
    if pe_kind != "none":  # (off, the paragraph above says so)
        blocks.append(Para([f"Position p = {i} (counting from 0): PE[2m] = sin(p / 10000^(2m/d)), "
                            "PE[2m+1] = cos(p / 10000^(2m/d)), with d = d_model."], "note"))
    blocks += _toggle_blocks(ctx, 0, d)
    values = {"embedding": r.embeddings[i], "pe": r.pe[i], "x": r.x[i],
              "vocab_row": vocab_row}
    return Step(1, "input", "Input", "x = embedding + positional encoding", blocks, values)


def step_qkv(ctx: Context) -> Step:
    r, doc, h, i = ctx.r, ctx.doc, ctx.head, ctx.i
    x = r.x[i]
    blocks: list[Block] = [Para(["The token's vector x is multiplied by three weight matrices. "
                                 "Each component is a dot product of x with one column. The numbers are shown "
                                 "rounded (Digits, above); each result is worked out from the full values, so "
                                 "its last digit may differ from what the rounded ones give."])]
    for name, W, out in (("q", doc.W_q, r.q), ("k", doc.W_k, r.k), ("v", doc.W_v, r.v)):
        wname = "W_" + name
        rows = []
        if not ctx.fold(len(x)):
            for c in range(ctx.components(out.shape[2])):
                rows.append(_product_row(ctx, [Mono(f"{name}{sub(c)}")], x, W[h][:, c], ctx.num(out[h, i, c]),
                                         down_column(wname, h, c)))
            blocks.append(Dots(rows))
        blocks.append(Para([Mono(f"{name} = x · {wname} = "), *_vector(ctx, out[h, i])], "math"))
    blocks += _toggle_blocks(ctx, len(x), max(doc.d_k, doc.d_v))
    blocks.append(Para(["The same W_q, W_k and W_v serve every token, so each token's key and value is computed "
                        "once, the same way, and reused by every query:"], "note"))
    if doc.d_k + doc.d_v <= 8:
        blocks.append(_keys_table(ctx, ["token", "k = x · W_k", "v = x · W_v"], r.k, r.v))
    else:  # long vectors: one table each, so the page need not scroll sideways
        for name, a in (("k = x · W_k", r.k), ("v = x · W_v", r.v)):
            blocks.append(_keys_table(ctx, ["token", name], a))
    values = {"q": r.q[h, i], "k": r.k[h, i], "v": r.v[h, i],
              "k_all": r.k[h], "v_all": r.v[h]}
    return Step(2, "qkv", "Query, key, value", "q = x · W_q,   k = x · W_k,   v = x · W_v", blocks, values)


# The last few key tables, by what they show. A W_q edit leaves the keys and values
# as they were, and these tables are the bulk of the page's numbers: an equal
# table is the same object again, which calculation_page also remembers.
_KEY_TABLES: dict[tuple, Table] = {}
_KEY_TABLES_KEPT = 8


def _keys_table(ctx: Context, header: list[str], *arrays: np.ndarray) -> Table:
    """A row per listed key: its token, then its vector from each of ``arrays`` (per head: k, v)."""
    h, keys = ctx.head, list(ctx.keys)
    key = (tuple(header), ctx.keys, tuple(ctx.r.tokens[j] for j in keys), ctx.digits, ctx.show_terms,
           *(a[h, keys].tobytes() for a in arrays))
    table = _KEY_TABLES.pop(key, None)
    if table is None:
        table = Table(header, [[[f"#{j + 1} ", ctx.tok(j)], *(_vector(ctx, a[h, j]) for a in arrays)]
                               for j in keys])
        while len(_KEY_TABLES) >= _KEY_TABLES_KEPT:
            del _KEY_TABLES[next(iter(_KEY_TABLES))]
    _KEY_TABLES[key] = table  # the newest last
    return table


def _scaling(ctx: Context) -> tuple[str, str]:
    """(text of the scaling operations, formula suffix), e.g. (" ÷ √2", " ÷ √d_k")."""
    cfg, d_k = ctx.doc.config, ctx.doc.d_k
    ops, formula = "", ""
    if cfg.scale:
        ops += f" ÷ √{d_k}"
        formula += " ÷ √d_k"
    if cfg.temperature != 1.0:
        ops += f" ÷ {cfg.temperature:.6g}"  # T exactly as set: 0.005 must not print as 0.01
        formula += " ÷ T"
    return ops, formula


def step_similarity(ctx: Context) -> Step:
    r, h, i = ctx.r, ctx.head, ctx.i
    cfg = ctx.doc.config
    ops, formula_ops = _scaling(ctx)
    q = r.q[h, i]
    rows = []
    masked = _masked_keys(ctx)
    for j in ctx.keys:
        is_masked = masked[j]
        score = ctx.num(r.scores[h, i, j], ("scores", h, i, j))
        row = _product_row(ctx, [f"#{j + 1} ", ctx.tok(j)], q, r.k[h, j], score)
        row.op = ": q · k"
        if is_masked:
            row.tail = [["→ logit = masked (this key comes after the query)"]]
        elif ops:
            row.tail = [["→ logit = ", ctx.num(r.scores[h, i, j]), ops, " = ", ctx.num(r.logits[h, i, j])]]
        else:
            row.tail = [["→ logit = ", ctx.num(r.logits[h, i, j])]]
        rows.append(row)
    blocks: list[Block] = [Para(["The query of ", ctx.tok(i), " is compared with the key of every token by a dot "
                                 "product: the bigger, the more similar."]), Dots(rows)]
    blocks += _toggle_blocks(ctx, len(q)) + _keys_note(ctx)
    notes = []
    if cfg.scale:
        notes.append(f"Dividing by √d_k = √{ctx.doc.d_k} keeps the scores from growing with the key length.")
    if cfg.temperature != 1.0:
        notes.append(f"Temperature T = {cfg.temperature:g}: above 1 flattens the softmax, below 1 sharpens it.")
    if cfg.causal:
        notes.append("Causal masking: a token may only look at itself and the tokens before it (key j ≤ query i).")
    blocks += [Para([n], "note") for n in notes]
    values = {"scores": r.scores[h, i], "logits": r.logits[h, i], "masked": masked}
    return Step(3, "similarity", "Similarity", "score_j = q · k_j,   logit_j = score_j" + formula_ops,
                blocks, values)


def _masked_keys(ctx: Context) -> list[bool]:
    """Which keys the causal mask hides from the selected query (the later ones)."""
    return [bool(ctx.doc.config.causal and j > ctx.i) for j in range(ctx.r.n_tokens)]


def _shifted(ctx: Context) -> np.ndarray:
    """Each key's logit − max (at most 0; −∞ where masked) as the engine's softmax works it out: from
    the scores before the division by T, so a logit that overflows at a tiny T is not ∞ − ∞."""
    r, cfg = ctx.r, ctx.doc.config
    with np.errstate(all="ignore"):
        scaled = r.scores[ctx.head, ctx.i] / (np.sqrt(ctx.doc.d_k) if cfg.scale else 1.0)
        scaled = np.where(_masked_keys(ctx), -np.inf, scaled)
        return shifted(scaled, cfg.temperature)


def _softmax_notes(ctx: Context, logits: np.ndarray, kept: list[int]) -> list[str]:
    """What the table cannot show on its own when a score or a logit overflowed."""
    scores = ctx.r.scores[ctx.head, ctx.i, kept]
    if np.isnan(scores).any() and not np.isposinf(scores).any():
        return ["A score is NaN (∞ × 0 in q · k overflowed), so this row's weights are not defined."]
    if np.isposinf(scores).any():
        return ["Some scores overflowed to ∞: those keys share all the weight equally, the limit as their "
                "scores grow. The true scores are beyond a 64-bit float, so these weights are not exact."]
    if len(kept) and np.isneginf(scores).all():
        return ["Every score of this row overflowed to −∞: no limit is defined, so the weight is spread evenly."]
    if not np.isfinite(logits[kept]).all():
        return ["Some logits overflow a 64-bit float at this temperature, so logit − max is worked out "
                "from the scores before dividing by T, as softmax does: it stays finite."]
    return []


def step_softmax(ctx: Context) -> Step:
    r, h, i = ctx.r, ctx.head, ctx.i
    logits = np.asarray(r.logits[h, i])
    z = _shifted(ctx)
    e = np.exp(z)
    total = float(e.sum())
    weights = r.weights[h, i]
    masked = _masked_keys(ctx)
    kept = [j for j in range(r.n_tokens) if not masked[j]]
    # "logit − max = …" only where both are numbers; else the engine's difference alone
    top = float(logits[kept].max()) if kept else 0.0
    spelled = bool(kept) and np.isfinite(logits[kept]).all()
    rows = []
    for j in ctx.keys:
        label: list[Seg] = [f"#{j + 1} ", ctx.tok(j)]
        w = ctx.num(weights[j], ("weights", h, i, j))
        if masked[j]:
            rows.append([label, ["masked"], ["0"], [w]])
            continue
        difference = [ctx.num(logits[j]), f" {MINUS} ", ctx.num(top), " = ", ctx.num(z[j])] if spelled \
            else [ctx.num(z[j])]
        rows.append([label, difference, [ctx.num(e[j])], [ctx.num(e[j]), " ÷ ", ctx.num(total), " = ", w]])
    blocks: list[Block] = [
        Para(["Softmax turns the logits into weights that are positive and add up to 1. Subtracting the largest "
              "logit first changes nothing in the result but keeps e^… from overflowing."]),
        Table(["key", "logit − max", "e^(logit − max)", "weight = e ÷ Σe"], rows),
        Para([Mono("Σe = "), *_sum_segs(ctx, [e[j] for j in kept if j in ctx.keys], len(kept)),
              " = ", ctx.num(total)], "math"),
        Para([Mono("Σ weights = "), *_sum_segs(ctx, weights[list(ctx.keys)], r.n_tokens), " = ",
              ctx.num(float(np.sum(weights)))], "math"),
    ]
    blocks += [Para([note], "note") for note in _softmax_notes(ctx, logits, kept)]
    values = {"max": top, "exp": e, "sum_exp": total, "weights": weights,
              "sum_weights": float(np.sum(weights))}
    return Step(4, "softmax", "Softmax", "weight_j = e^(logit_j − max) ÷ Σ e^(logit − max)", blocks, values)


def _sum_segs(ctx: Context, values: Iterable[float], n_all: int | None = None) -> list[Seg]:
    """``a + b − c`` with the sign of each later addend folded into its operator.

    ``n_all`` is how many addends the full sum has; missing ones show as "+ …".
    """
    segs: list[Seg] = []
    count = 0
    for t, v in enumerate(values):
        v = float(v)
        count += 1
        if t == 0:
            segs.append(ctx.num(v))
        else:
            segs += [f" {MINUS} " if v < 0 else " + ", ctx.num(abs(v))]
    if n_all is not None and n_all > count:
        segs.append(f" + … ({n_all - count} more)")
    return segs


def step_output(ctx: Context) -> Step:
    r, h, i = ctx.r, ctx.head, ctx.i
    w = r.weights[h, i]
    n = r.n_tokens
    mix: list[Seg] = [Mono("y = ")]
    for t, j in enumerate(ctx.keys):
        mix += [" + " if t else "", ctx.num(w[j], ("weights", h, i, j)), " × v(", ctx.tok(j), ")"]
    if len(ctx.keys) < n:
        mix.append(f" + … ({n - len(ctx.keys)} more)")
    blocks: list[Block] = [Para(["Each token's value is scaled by its weight and the results are added: "
                                 "the head's output for ", ctx.tok(i), " is a weighted average of the values."]),
                           Para(mix, "math")]
    if not ctx.fold(n):
        rows = []
        for c in range(ctx.components(r.v.shape[2])):
            # the weights are the same cells as in step 4: link them there
            rows.append(_product_row(ctx, [Mono(f"y{sub(c)}")], w, r.v[h, :, c], ctx.num(r.heads[h, i, c]),
                                     a_source=along_row("weights", h, i)))
        blocks.append(Dots(rows))
    blocks.append(Para([Mono(f"y = head {h + 1} output = "), *_vector(ctx, r.heads[h, i])], "math"))
    blocks += _toggle_blocks(ctx, n, r.v.shape[2])
    blocks += _combine_heads(ctx)
    values = {"head_output": r.heads[h, i], "concat": r.concat[i], "output": r.output[i]}
    return Step(5, "output", "Output", "y = Σ_j weight_j × v_j", blocks, values)


def _combine_heads(ctx: Context) -> list[Block]:
    """concat of heads [· W_o] [+ x]: the part of the output shared by all heads."""
    r, doc, i = ctx.r, ctx.doc, ctx.i
    W_o, residual = doc.W_o, doc.config.residual
    out_src = along_row("output", -1, i)
    if doc.n_heads == 1 and W_o is None and not residual:
        return [Para(["With one head, no W_o and no residual, this is the final output of ", ctx.tok(i), ": ",
                      *_vector(ctx, r.output[i], out_src)])]
    parts = ["concat of every head's y"] + (["· W_o"] if W_o is not None else []) + (["+ x"] if residual else [])
    blocks: list[Block] = [Para([f"Then, for all heads together (the same for whichever head is shown): "
                                 f"output = {' '.join(parts)}."], "note")]
    concat: list[Seg] = [Mono("concat = ")]
    d_v = doc.d_v
    for hh in range(doc.n_heads):
        concat += [" | " if hh else "", Mono(f"head {hh + 1}: ")]
        concat += _vector(ctx, r.concat[i, hh * d_v:(hh + 1) * d_v])
    blocks.append(Para(concat, "math"))
    c_vec, x = r.concat[i], r.x[i]
    n_terms = len(c_vec) if W_o is not None else 0
    # without W_o or the residual, output = concat: a row per component would say nothing
    if not ctx.fold(n_terms) and (W_o is not None or residual):
        rows = []
        for c in range(ctx.components(r.output.shape[1])):
            extra = [x[c]] if residual else []
            if W_o is not None:
                rows.append(_product_row(ctx, [Mono(f"out{sub(c)}")], c_vec, W_o[:, c],
                                         ctx.num(r.output[i, c], out_src(c)),
                                         down_column("W_o", -1, c), extra))
            else:
                rows.append(DotRow([Mono(f"out{sub(c)}")], [], ctx.num(r.output[i, c], out_src(c)),
                                   [ctx.num(c_vec[c]), *(ctx.num(e) for e in extra)]))
        blocks.append(Dots(rows))
    short = " ".join(["concat", *parts[1:]])
    blocks.append(Para([Mono(f"output = {short} = "),
                        *_vector(ctx, r.output[i], out_src)], "math"))
    if residual:
        blocks.append(Para(["The residual adds the input x back, so the output keeps what the token was."], "note"))
    blocks += _toggle_blocks(ctx, n_terms, max(doc.d_model, d_v))
    return blocks


STEPS = (step_input, step_qkv, step_similarity, step_softmax, step_output)


def build_steps(ctx: Context) -> list[Step]:
    return [f(ctx) for f in STEPS]


def numbers_in(blocks: Iterable[Block]) -> Iterator[Num]:
    def walk(segs: Iterable[Seg]) -> Iterator[Num]:
        yield from (s for s in segs if isinstance(s, Num))

    for b in blocks:
        if isinstance(b, Para):
            yield from walk(b.segs)
        elif isinstance(b, Table):
            for row in b.rows:
                for cell in row:
                    yield from walk(cell)
        elif isinstance(b, Dots):
            for r in b.rows:
                yield from walk(r.label)
                for a, bb, p in r.terms or []:
                    yield from (a, bb, p)
                yield from r.extra
                yield r.result
                for cell in r.tail:
                    yield from walk(cell)
