"""The calculation panel prints the engine's numbers, and they are the right numbers.

The check is independent: the numbers are parsed back from the panel's plain
text and compared with attention computed here, in NumPy, from the formulas
(x = embedding + sinusoidal PE, q = x W_q, …), not with the engine's arrays.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QUrl

from attnviz.engine import Config, Document
from attnviz.gui.calculation_document import LINK_COLOR
from attnviz.gui.calculation_panel import EMPTY_MESSAGE, CalculationPanel, parse_source
from attnviz.gui.numbers import MINUS
from attnviz.gui.numbers import format_number as fmt
from attnviz.gui.numbers import parse_shown as parse_number
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel

WORDS = ("alpha", "beta", "gamma", "delta", "omega", "kappa")
EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "lets-go.json"
NUM = r"[−-]?\d+(?:\.\d+)?"


# ---- documents and an independent reference --------------------------------
def random_doc(seed: int, d_model: int, d_k: int, d_v: int, heads: int, n: int, *, W_o: bool = False,
               **config) -> Document:
    rng = np.random.default_rng(seed)
    sentence = " ".join(rng.choice(WORDS, size=n))
    W_o_m = rng.normal(size=(heads * d_v, d_model)).round(2) if W_o else None
    return Document(
        vocab=WORDS,
        embeddings=rng.normal(size=(len(WORDS), d_model)).round(2),
        W_q=rng.normal(size=(heads, d_model, d_k)).round(2),
        W_k=rng.normal(size=(heads, d_model, d_k)).round(2),
        W_v=rng.normal(size=(heads, d_model, d_v)).round(2),
        W_o=W_o_m,
        config=Config(**config),
        sentence=sentence,
    )


def reference(doc: Document) -> dict[str, np.ndarray]:
    """Attention from the formulas, for known words split on spaces."""
    words = doc.sentence.lower().split()
    n, d = len(words), doc.d_model
    emb = np.array([doc.embeddings[doc.vocab.index(w)] for w in words])
    pe = np.zeros((n, d))
    if doc.config.positional_encoding == "sinusoidal":
        for p in range(n):
            for c in range(d):
                angle = p / 10000 ** ((c - c % 2) / d)
                pe[p, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    x = emb + pe
    out: dict[str, list] = {k: [] for k in ("q", "k", "v", "scores", "weights", "heads")}
    for h in range(doc.n_heads):
        q, k, v = x @ doc.W_q[h], x @ doc.W_k[h], x @ doc.W_v[h]
        s = q @ k.T
        logits = s / (math.sqrt(doc.d_k) if doc.config.scale else 1.0) / doc.config.temperature
        if doc.config.causal:
            logits = np.where(np.arange(n)[None, :] > np.arange(n)[:, None], -np.inf, logits)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        w = e / e.sum(axis=1, keepdims=True)
        for name, val in zip(("q", "k", "v", "scores", "weights", "heads"), (q, k, v, s, w, w @ v), strict=True):
            out[name].append(val)
    ref = {name: np.array(vals) for name, vals in out.items()}
    y = np.concatenate([ref["heads"][h] for h in range(doc.n_heads)], axis=1)
    if doc.W_o is not None:
        y = y @ doc.W_o
    if doc.config.residual:
        y = y + x
    ref.update(embeddings=emb, pe=pe, x=x, output=y)
    return ref


# ---- parsing the plain text --------------------------------------------------
def sections(text: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    current = 0
    for line in text.splitlines():
        m = re.match(r"^(\d)\. ", line)
        if m:
            current = int(m.group(1))
        out.setdefault(current, []).append(line.strip())
    return out


def numbers(s: str) -> list[float]:
    return [parse_number(t) for t in re.findall(NUM, s)]


def bracket(line: str, index: int = -1) -> list[float]:
    return numbers(re.findall(r"\[([^\]]*)\]", line)[index])


def line_starting(lines: list[str], prefix: str) -> str:
    found = [ln for ln in lines if ln.startswith(prefix)]
    assert found, f"no line starts with {prefix!r}"
    return found[0]


def signed_sum(s: str) -> float:
    """``"0.63 − 0.04 + 1.00"`` → 1.59."""
    s = s.strip().replace(" − ", " + −")
    return sum(parse_number(t) for t in s.split(" + "))


def parse_panel(text: str) -> dict:
    sec = sections(text)
    got: dict = {}
    s1 = sec[1]
    got["embedding"] = numbers(line_starting(s1, "embedding")[len("embedding"):])
    got["pe"] = numbers(line_starting(s1, "+ position")[len("+ position"):])
    got["x"] = numbers(line_starting(s1, "= x")[len("= x"):])
    for name in "qkv":
        got[name] = bracket(line_starting(sec[2], f"{name} = x · W_{name}"))
    rows = [ln for ln in sec[2] if ln.startswith("#")]
    if all(r.count("[") == 2 for r in rows):  # one table: token, k, v
        got["k_all"] = [bracket(r, 0) for r in rows]
        got["v_all"] = [bracket(r, 1) for r in rows]
    else:  # long vectors: a table of keys, then one of values
        half = len(rows) // 2
        got["k_all"] = [bracket(r) for r in rows[:half]]
        got["v_all"] = [bracket(r) for r in rows[half:]]
    got["scores"], got["masked"] = [], []
    for ln in (ln for ln in sec[3] if ln.startswith("#")):
        dot, _, tail = ln.partition("  →")
        got["scores"].append(parse_number(dot.rsplit(" = ", 1)[1]))
        got["masked"].append("masked" in tail)
    got["weight_rows"] = [ln for ln in sec[4] if ln.startswith("#")]
    got["weights"] = [numbers(ln)[-1] for ln in got["weight_rows"]]
    got["sum_weights_line"] = line_starting(sec[4], "Σ weights =")
    got["head"] = bracket(next(ln for ln in sec[5] if re.match(r"y = head \d+ output", ln)))
    final = [ln for ln in sec[5] if ln.startswith("output =") or "final output" in ln]
    got["output"] = bracket(final[-1])
    dot = re.compile(r"^\s*(?:[qkvy][₀-₉]+|out[₀-₉]+|#\d+ .*?: q · k) = ")
    got["dot_lines"] = [ln.partition("  →")[0] for ln in text.splitlines() if dot.match(ln)]
    return got


# ---- fixtures ----------------------------------------------------------------
def make_panel(qtbot, doc: Document, *, show: bool = False) -> tuple[DocumentModel, ViewState, CalculationPanel]:
    model = DocumentModel(doc)
    view = ViewState(model)
    panel = CalculationPanel(model, view)
    qtbot.addWidget(panel)
    if show:
        panel.resize(700, 900)
        panel.show()
        qtbot.waitExposed(panel)
    return model, view, panel


SHAPES = [
    # seed, d_model, d_k, d_v, heads, n, W_o, config
    (1, 2, 2, 2, 1, 2, False, {}),
    (2, 3, 2, 4, 2, 4, False, {"causal": True}),
    (3, 4, 3, 2, 2, 3, True, {"temperature": 0.5}),
    (4, 5, 5, 5, 1, 5, False, {"scale": False, "residual": True}),
    (5, 6, 4, 3, 2, 3, True, {"residual": True, "causal": True, "temperature": 2.0}),
    (6, 10, 10, 10, 1, 3, False, {}),  # d > 8: the sums fold
    (7, 10, 9, 5, 2, 10, True, {"causal": True, "positional_encoding": "none"}),  # n > 8 folds step 5 too
    (8, 1, 1, 1, 1, 1, False, {}),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"seed{s[0]}")
@pytest.mark.parametrize("show_terms", [False, True])
def test_numbers_match_independent_computation(qtbot, shape, show_terms):
    seed, d_model, d_k, d_v, heads, n, W_o, config = shape
    doc = random_doc(seed, d_model, d_k, d_v, heads, n, W_o=W_o, **config)
    _, view, panel = make_panel(qtbot, doc)
    view.set_precision(6)
    panel.set_show_terms(show_terms)
    ref = reference(doc)
    tol = 0.5e-6 + 1e-12
    for h in range(heads):
        view.set_head(h)
        for i in range(n):
            view.set_token(i)
            got = parse_panel(panel.to_plain_text())
            np.testing.assert_allclose(got["embedding"], ref["embeddings"][i], atol=tol)
            np.testing.assert_allclose(got["pe"], ref["pe"][i], atol=tol)
            np.testing.assert_allclose(got["x"], ref["x"][i], atol=tol)
            for name in "qkv":
                np.testing.assert_allclose(got[name], ref[name][h, i], atol=tol)
            np.testing.assert_allclose(got["k_all"], ref["k"][h], atol=tol)
            np.testing.assert_allclose(got["v_all"], ref["v"][h], atol=tol)
            np.testing.assert_allclose(got["scores"], ref["scores"][h, i], atol=tol)
            np.testing.assert_allclose(got["weights"], ref["weights"][h, i], atol=tol)
            np.testing.assert_allclose(got["head"], ref["heads"][h, i], atol=tol)
            np.testing.assert_allclose(got["output"], ref["output"][i], atol=tol)
            assert got["dot_lines"]
            check_dot_lines(got["dot_lines"], digits=6)
            check_weights_sum(got["sum_weights_line"], digits=6)
            if config.get("causal"):
                assert got["masked"] == [j > i for j in range(n)]
                for j, row in enumerate(got["weight_rows"]):
                    assert ("masked" in row) == (j > i)
                    if j > i:
                        assert numbers(row)[-1] == 0.0


def check_dot_lines(lines: list[str], digits: int) -> None:
    """Each printed a·b rounds to its printed product, and the products sum to the printed result."""
    unit = 10.0**-digits
    for ln in lines:
        parts = ln.split(" = ")
        if len(parts) == 2:  # folded: just "q₁ = 0.59"
            continue
        if "·" not in ln:  # plain addends, "out₁ = y₁ + x₁ = r": products are the addends themselves
            parts.insert(-1, parts[-2].replace(" + (−", " − ").replace(")", ""))
        terms, products, result = parts[-3], parts[-2], parse_number(parts[-1])
        addends = terms.split(" + ")
        printed = [parse_number(t) for t in products.replace(" − ", " + −").split(" + ")]
        assert len(addends) == len(printed), ln
        for term, p in zip(addends, printed, strict=True):
            if "·" in term:
                a, b = (parse_number(f.strip("()")) for f in term.split("·"))
                # a and b are themselves rounded: allow their rounding error times the other factor
                assert abs(a * b - p) <= unit * (0.5 + abs(a) + abs(b)), (ln, term)
        assert abs(sum(printed) - result) <= unit * (0.5 * len(printed) + 0.5) + 1e-12, ln


def check_weights_sum(line: str, digits: int) -> None:
    _, addends, total = line.split(" = ")
    unit = 10.0**-digits
    assert abs(parse_number(total) - 1.0) <= 0.5 * unit
    assert abs(signed_sum(addends) - 1.0) <= 0.5 * unit * (addends.count(" + ") + 1) + 1e-12


def test_fold_hides_terms_for_long_sums(qtbot):
    doc = random_doc(11, 10, 10, 10, 1, 3)
    _, _, panel = make_panel(qtbot, doc)
    folded = panel.to_plain_text()
    assert "q₁ = " not in folded and "terms folded" in folded
    assert "toggle:terms" in panel.to_html()
    panel._on_anchor(QUrl("toggle:terms"))
    assert panel.show_terms
    shown = panel.to_plain_text()
    assert "q₁₀ = " in shown and "·" in shown


def test_small_dimensions_print_terms(qtbot):
    doc = random_doc(12, 2, 2, 2, 1, 2)
    _, _, panel = make_panel(qtbot, doc)
    text = panel.to_plain_text()
    for name in ("q₁", "q₂", "k₁", "v₂", "y₁"):
        assert re.search(rf"^\s*{name} = {NUM}·\(?{NUM}\)? \+ ", text, re.M), name
    assert "terms folded" not in text


@pytest.mark.skipif(not EXAMPLE.exists(), reason="lets-go example not written yet")
def test_lets_go_example(qtbot):
    from attnviz.engine.examples import load_example

    doc = load_example("lets-go")
    _, view, panel = make_panel(qtbot, doc)
    view.set_precision(6)
    ref = reference(doc)
    for i in range(len(doc.sentence.split())):
        view.set_token(i)
        got = parse_panel(panel.to_plain_text())
        np.testing.assert_allclose(got["x"], ref["x"][i], atol=1e-6)
        np.testing.assert_allclose(got["q"], ref["q"][0, i], atol=1e-6)
        np.testing.assert_allclose(got["weights"], ref["weights"][0, i], atol=1e-6)
        np.testing.assert_allclose(got["head"], ref["heads"][0, i], atol=1e-6)


def test_steps_hold_engine_values_and_strings(qtbot):
    doc = random_doc(13, 3, 2, 2, 2, 3, causal=True)
    model, view, panel = make_panel(qtbot, doc)
    view.set_head(1)
    view.set_token(1)
    steps = panel.steps()
    assert [s["key"] for s in steps] == ["input", "qkv", "similarity", "softmax", "output"]
    r = model.result
    assert steps[1]["values"]["q"] == r.q[1, 1].tolist()
    assert steps[3]["values"]["weights"] == r.weights[1, 1].tolist()
    assert steps[2]["values"]["masked"] == [False, False, True]
    for s in steps:
        for num in s["numbers"]:
            assert num["text"] == fmt(num["value"], view.precision)
    weights = [num for num in steps[3]["numbers"] if num["source"] and num["source"][0] == "weights"]
    assert [n["value"] for n in weights] == r.weights[1, 1].tolist()
    assert [n["source"] for n in weights] == [("weights", 1, 1, j) for j in range(3)]


def test_unknown_word_is_noted(qtbot):
    doc = random_doc(14, 2, 2, 2, 1, 2).replace(sentence="alpha zebra")
    _, view, panel = make_panel(qtbot, doc)
    view.set_token(1)
    text = panel.to_plain_text()
    assert "not in vocabulary: a fixed vector derived from the word" in text
    # its embedding is not a table cell, so it is not a link
    assert not any(s and s[0] == "embeddings" for s in (n["source"] for n in panel.steps()[0]["numbers"]))
    view.set_token(0)
    assert "not in vocabulary" not in panel.to_plain_text()


def test_updates_on_token_head_and_cell_change(qtbot):
    doc = random_doc(15, 3, 2, 2, 2, 3)
    model, view, panel = make_panel(qtbot, doc, show=True)
    qtbot.waitUntil(lambda: "Query token" in panel.text.toPlainText())
    before = panel.text.toPlainText()
    view.set_token(2)
    qtbot.waitUntil(lambda: "word 3 of 3" in panel.text.toPlainText())
    view.set_head(1)
    qtbot.waitUntil(lambda: "head 2 of 2" in panel.text.toPlainText())
    assert panel.text.toPlainText() != before
    view.set_precision(4)
    # W_q[1][0, 0] appears as the second factor of q₁'s first term
    model.set_cell("W_q", 1, 0, 0, 7.125)
    qtbot.waitUntil(lambda: "·7.1250" in panel.text.toPlainText())
    assert fmt(model.result.q[1, 2, 0], 4) in panel.text.toPlainText()


def test_clicking_a_number_requests_its_source(qtbot):
    doc = random_doc(16, 2, 2, 2, 2, 3, W_o=True)
    model, view, panel = make_panel(qtbot, doc, show=True)
    view.set_head(1)
    view.set_token(2)
    page = panel.to_html()
    hrefs = set(re.findall(r'href="(src:[^"]+)"', page))
    assert "src:W_q:1:0:0" in hrefs  # W_q, head 1, row 0, col 0
    assert "src:scores:1:2:0" in hrefs and "src:weights:1:2:1" in hrefs
    assert "src:W_o:-1:3:1" in hrefs and "src:output:-1:2:1" in hrefs
    vocab_row = model.result.token_ids[2]
    assert f"src:embeddings:-1:{vocab_row}:1" in hrefs
    for href in sorted(hrefs):
        with qtbot.waitSignal(panel.sourceRequested) as blocker:
            panel.text.anchorClicked.emit(QUrl(href))
        assert tuple(blocker.args) == parse_source(href)
    with qtbot.assertNotEmitted(panel.sourceRequested):
        panel._on_anchor(QUrl("https://example.com"))
    # the page on screen has the same links, each drawn in the link colour
    qtbot.waitUntil(lambda: {h for h, _ in shown_links(panel.text.document()) if h.startswith("src:")} == hrefs)
    shown = shown_links(panel.text.document())
    assert {color for href, color in shown if href.startswith("src:")} == {LINK_COLOR}


def shown_links(document) -> list[tuple[str, str]]:
    """(href, colour) of every link fragment in a QTextDocument."""
    links = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            f = it.fragment().charFormat()
            if f.isAnchor():
                links.append((f.anchorHref(), f.foreground().color().name()))
            it += 1
        block = block.next()
    return links


def test_precision_spin_box_sets_digits(qtbot):
    doc = random_doc(17, 2, 2, 2, 1, 2)
    _, view, panel = make_panel(qtbot, doc, show=True)
    box = panel.findChild(type(panel.precision_box), "calc:precision")
    assert box is panel.precision_box and (box.minimum(), box.maximum()) == (2, 6)
    for digits in (2, 5, 3):
        box.setValue(digits)
        assert view.precision == digits
        qtbot.waitUntil(lambda d=digits: re.search(rf"q = x · W_q = \[{NUM}", panel.text.toPlainText())
                        and all(len(t.split(".")[1]) == d
                                for t in re.findall(NUM, bracket_text(panel.text.toPlainText()))))
    view.set_precision(4)
    assert box.value() == 4


def bracket_text(text: str) -> str:
    return re.search(r"q = x · W_q = \[([^\]]*)\]", text).group(1)


def test_empty_sentence(qtbot):
    doc = random_doc(18, 2, 2, 2, 1, 2)
    model, _, panel = make_panel(qtbot, doc, show=True)
    model.set_sentence("")
    qtbot.waitUntil(lambda: EMPTY_MESSAGE in panel.text.toPlainText())
    assert panel.steps() == []
    assert EMPTY_MESSAGE in panel.to_plain_text() and EMPTY_MESSAGE in panel.to_markdown()
    model.set_sentence("beta")
    qtbot.waitUntil(lambda: "Query token" in panel.text.toPlainText())


def test_hidden_panel_does_not_regenerate_until_shown(qtbot):
    doc = random_doc(19, 2, 2, 2, 2, 3)
    model, view, panel = make_panel(qtbot, doc)
    assert panel.regenerations == 0
    model.set_cell("W_q", 0, 0, 0, 3.5)
    view.set_token(1)
    view.set_head(1)
    view.set_precision(3)
    qtbot.wait(20)
    assert panel.regenerations == 0
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.regenerations == 1
    assert "word 2 of 3" in panel.text.toPlainText() and "head 2 of 2" in panel.text.toPlainText()
    panel.hide()
    model.set_cell("W_q", 0, 0, 0, 4.5)
    qtbot.wait(20)
    assert panel.regenerations == 1
    panel.show()
    assert panel.regenerations == 2


def test_burst_of_signals_costs_one_regeneration(qtbot):
    doc = random_doc(20, 2, 2, 2, 2, 3)
    _, view, panel = make_panel(qtbot, doc, show=True)
    start = panel.regenerations
    view.set_token(2)
    view.set_head(1)
    view.set_precision(3)
    qtbot.waitUntil(lambda: panel.regenerations > start)
    qtbot.wait(20)
    assert panel.regenerations == start + 1


def test_scroll_position_is_kept(qtbot):
    doc = random_doc(21, 4, 4, 4, 1, 6, causal=True)
    model, _, panel = make_panel(qtbot, doc, show=True)
    panel.resize(500, 300)
    qtbot.waitUntil(lambda: panel.text.verticalScrollBar().maximum() > 200)
    bar = panel.text.verticalScrollBar()
    bar.setValue(150)
    start = panel.regenerations
    model.set_cell("W_v", 0, 1, 1, 0.5)
    qtbot.waitUntil(lambda: panel.regenerations > start)
    assert bar.value() == 150


def test_exports(qtbot):
    doc = random_doc(22, 2, 2, 2, 2, 2, W_o=True, residual=True)
    _, _, panel = make_panel(qtbot, doc)
    md = panel.to_markdown()
    assert "### 1. Input" in md and "### 5. Output" in md
    assert "|---|" in md and re.search(rf"`{NUM}`", md)
    assert "**alpha**" in md or "**beta**" in md or any(f"**{w}**" in md for w in WORDS)
    text = panel.to_plain_text()
    assert "`" not in text and "<" not in text
    assert "all heads together" in text and "residual" in text


def test_token_names_are_in_token_colours(qtbot):
    from attnviz.gui.palette import token_color

    doc = random_doc(23, 2, 2, 2, 1, 3)
    _, _, panel = make_panel(qtbot, doc)
    page = panel.to_html()
    for j in range(3):
        assert f"background-color:{token_color(j).name()}" in page


def test_fmt_and_parse():
    assert fmt(-1.5, 2) == "−1.50"
    assert fmt(-0.001, 2) == "0.00"
    assert fmt(0.125, 0) == "0"
    assert fmt(float("-inf"), 2) == "−∞"
    for x in (0.0, 1.23456, -7.5, 1e3):
        assert parse_number(fmt(x, 4)) == pytest.approx(x, abs=0.5e-4)
    assert parse_source("src:W_q:0:1:0") == ("W_q", 0, 1, 0)
    assert parse_source("toggle:terms") is None


def test_listing_all_keys_and_showing_all_terms_are_separate_switches(qtbot):
    n = 20
    words = tuple(f"w{i}" for i in range(n))
    rng = np.random.default_rng(3)
    doc = Document(vocab=words, embeddings=rng.normal(size=(n, 10)), W_q=rng.normal(size=(1, 10, 10)),
                   W_k=rng.normal(size=(1, 10, 10)), W_v=rng.normal(size=(1, 10, 10)), sentence=" ".join(words))
    model = DocumentModel(doc)
    view = ViewState(model)
    panel = CalculationPanel(model, view)
    qtbot.addWidget(panel)
    panel.show()
    text = panel.to_plain_text()
    assert "keys folded: 20 in all" in text and "terms folded" in text
    panel._on_anchor(QUrl("toggle:keys"))
    text = panel.to_plain_text()
    assert "all keys listed" in text and "terms folded" in text  # only the keys unfolded
    assert all(f"#{j + 1} " in text for j in range(n))
    panel._on_anchor(QUrl("toggle:terms"))
    assert "all terms shown" in panel.to_plain_text() and "all keys listed" in panel.to_plain_text()


def fragments(document) -> list[tuple[int, str, str, str]]:
    """(position, text, link, colour) of every fragment: what a page looks like, run by run."""
    out = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            f = frag.charFormat()
            out.append((frag.position(), frag.text(), f.anchorHref(), f.foreground().color().name()))
            it += 1
        block = block.next()
    return out


@pytest.mark.parametrize("seed", [31, 32])
def test_edits_patch_the_page_in_place_and_it_matches_a_fresh_build(qtbot, seed):
    from PySide6.QtGui import QTextDocument

    from attnviz.gui.calculation_document import CalculationDocument

    doc = random_doc(seed, 3, 2, 2, 1, 4)
    model, view, panel = make_panel(qtbot, doc, show=True)
    view.set_token(1)
    qtbot.waitUntil(lambda: "word 2 of 4" in panel.text.toPlainText())
    rebuilds = panel.page.rebuilds
    rng = np.random.default_rng(seed)
    for _ in range(12):
        before = panel.regenerations
        name = ["W_q", "W_k", "W_v"][int(rng.integers(3))]
        model.set_cell(name, 0, int(rng.integers(3)), int(rng.integers(2)), float(rng.normal(0, 0.02)))
        qtbot.waitUntil(lambda b=before: panel.regenerations > b)
        fresh = QTextDocument()
        CalculationDocument(fresh).show(panel.to_page())
        assert panel.text.toPlainText() == fresh.toPlainText()
        assert fragments(panel.text.document()) == fragments(fresh)
        # and the numbers are the engine's: q of the selected token, printed with the panel's digits
        q = model.result.q[0, 1]
        assert f"q = x · W_q = [{fmt(q[0], 2)}, {fmt(q[1], 2)}]" in panel.text.toPlainText()
    # small edits keep the page's shape: most of them were patches, not rebuilds
    assert panel.page.rebuilds - rebuilds < 12


def test_long_vectors_fold_to_their_first_components_until_shown(qtbot):
    doc = random_doc(41, 20, 18, 18, 2, 3, W_o=True)  # every vector is longer than 16
    _, view, panel = make_panel(qtbot, doc)
    view.set_precision(6)
    view.set_token(1)
    ref = reference(doc)
    folded = panel.to_plain_text()
    q_line = line_starting(sections(folded)[2], "q = x · W_q")
    # the first eight components are the engine's, then a count of the rest
    np.testing.assert_allclose(numbers(q_line.split("=", 2)[2].split("…")[0]), ref["q"][0, 1, :8], atol=1e-6)
    assert q_line.endswith("… (10 more)]")
    assert "… 12 more" in line_starting(sections(folded)[1], "embedding")
    assert "long vectors folded" in folded or "terms folded" in folded
    panel.set_show_terms(True)
    got = parse_panel(panel.to_plain_text())
    np.testing.assert_allclose(got["q"], ref["q"][0, 1], atol=1e-6)
    np.testing.assert_allclose(got["x"], ref["x"][1], atol=1e-6)
    np.testing.assert_allclose(got["output"], ref["output"][1], atol=1e-6)
    assert "more)" not in panel.to_plain_text()


def test_rebuilding_the_page_does_not_resize_the_view(qtbot):
    """Scroll bars that come and go resize the view, and each resize lays the whole page out again."""
    from PySide6.QtCore import QEvent, QObject

    doc = random_doc(43, 3, 2, 2, 1, 4)
    model, view, panel = make_panel(qtbot, doc, show=True)
    qtbot.waitUntil(lambda: "Query token" in panel.text.toPlainText())

    class Resizes(QObject):
        count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Resize:
                Resizes.count += 1
            return False

    counter = Resizes()
    panel.text.viewport().installEventFilter(counter)
    rebuilds, rewritten = panel.page.rebuilds, panel.page.blocks_rewritten
    for causal in (True, False, True, False):  # the causal note comes and goes: the page is rebuilt from empty
        before = panel.regenerations
        model.set_option("causal", causal)
        qtbot.waitUntil(lambda b=before: panel.regenerations > b)
    assert panel.page.rebuilds >= rebuilds + 4
    for token in (1, 2, 3, 0):  # another token: some blocks change shape and are rewritten
        view.set_token(token)
        qtbot.waitUntil(lambda t=token: f"word {t + 1} of 4" in panel.text.toPlainText())
    assert panel.page.blocks_rewritten > rewritten
    assert Resizes.count == 0


def block_formats(document) -> list[tuple[int, float, float, bool]]:
    """(position, top margin, bottom margin, lines kept whole) of every block: the page's paragraph kinds."""
    out = []
    block = document.begin()
    while block.isValid():
        f = block.blockFormat()
        out.append((block.position(), f.topMargin(), f.bottomMargin(), f.nonBreakableLines()))
        block = block.next()
    return out


def test_blocks_that_change_shape_are_rewritten_in_place_and_match_a_fresh_build(qtbot):
    from PySide6.QtGui import QTextDocument

    from attnviz.gui.calculation_document import CalculationDocument

    doc = random_doc(51, 3, 2, 2, 2, 14)  # more than 12 tokens: only the heaviest keys are listed
    model, view, panel = make_panel(qtbot, doc, show=True)
    qtbot.waitUntil(lambda: "word 1 of 14" in panel.text.toPlainText())
    rebuilds, rewritten = panel.page.rebuilds, panel.page.blocks_rewritten
    words = doc.sentence.split()
    steps = [
        lambda: view.set_token(5),
        lambda: view.set_head(1),
        lambda: model.set_sentence(" ".join(["zebra", *words[1:]])),  # a new word, the same number of tokens
        lambda: model.set_cell("W_k", 1, 0, 0, 4.0),  # moves weight between keys: other heaviest keys
        lambda: view.set_token(0),  # the unknown word: its note joins the page (another block count)
        lambda: model.set_sentence(" ".join([*words[:13], "alphabet"])),
        lambda: view.set_precision(4),
    ]
    for step in steps:
        before = panel.regenerations
        step()
        qtbot.waitUntil(lambda b=before: panel.regenerations > b)
        fresh = QTextDocument()
        fresh.setDefaultFont(panel.text.document().defaultFont())
        CalculationDocument(fresh).show(panel.to_page())
        assert panel.text.toPlainText() == fresh.toPlainText()
        assert fragments(panel.text.document()) == fragments(fresh)
        assert block_formats(panel.text.document()) == block_formats(fresh)
    assert panel.page.blocks_rewritten > rewritten
    assert panel.page.rebuilds - rebuilds < len(steps)  # most of the steps were patches


@pytest.mark.parametrize("d_k", [2, 6])  # one table of k and v, or a table each
def test_key_and_value_tables_follow_every_edit_and_are_kept_while_unchanged(qtbot, d_k):
    from attnviz.gui import calculation_page, calculation_steps
    from attnviz.gui.calculation_steps import Table, build_steps

    doc = random_doc(33, 3, d_k, d_k, 2, 4)
    model, view, panel = make_panel(qtbot, doc)
    view.set_precision(6)
    view.set_token(2)
    rng = np.random.default_rng(d_k)

    def check() -> None:
        text = panel.to_plain_text()
        got = parse_panel(text)
        h, tol = view.head, 0.5 * 10.0 ** -view.precision + 1e-12
        assert f"[{fmt(model.result.k[h, 0, 0], view.precision)}, " in text  # printed to the digits asked
        np.testing.assert_allclose(got["k_all"], model.result.k[h], atol=tol)
        np.testing.assert_allclose(got["v_all"], model.result.v[h], atol=tol)
        # the page from what was kept equals the page built with nothing kept
        page = panel.to_page()
        calculation_steps._KEY_TABLES.clear()
        calculation_page._RUNS.clear()
        assert panel.to_page() == page

    def tables() -> list[Table]:
        return [b for b in build_steps(panel._context())[1].blocks if isinstance(b, Table)]

    for name, head in [("W_k", 0), ("W_v", 0), ("W_k", 1), ("W_v", 1), ("embeddings", -1)]:
        view.set_head(max(head, 0))
        if name == "embeddings":
            model.set_cell(name, 0, int(rng.integers(4)), 0, float(rng.normal()))
        else:
            model.set_cell(name, head, int(rng.integers(3)), int(rng.integers(d_k)), float(rng.normal()))
        model.flush()
        check()
    kept, page = tables(), panel.to_page()
    model.set_cell("W_q", view.head, 0, 0, 5.0)  # keys and values stay as they were
    model.flush()
    assert [id(t) for t in tables()] == [id(t) for t in kept]
    same_runs = [old is new for (_, old), (_, new) in zip(page, panel.to_page(), strict=True)]
    assert sum(same_runs) == len(kept)  # their text is not laid out into runs again either
    check()
    view.set_precision(3)
    check()
    view.set_head(0)
    check()


def test_a_word_with_the_same_vector_as_the_one_it_replaces_renames_the_key_table(qtbot):
    # the kept key tables must be told apart by their tokens, not only by their numbers
    doc = random_doc(35, 3, 2, 2, 1, 3)
    a, b = doc.vocab[0], doc.vocab[1]
    embeddings = doc.embeddings.copy()
    embeddings[1] = embeddings[0]  # b's vector is a's: keys and values stay the same
    model, view, panel = make_panel(qtbot, doc.replace(embeddings=embeddings, sentence=f"{a} {a}"))
    view.set_token(0)
    before = parse_panel(panel.to_plain_text())
    model.set_sentence(f"{a} {b}")
    model.flush()
    text = panel.to_plain_text()
    after = parse_panel(text)
    assert after["k_all"] == before["k_all"] and after["v_all"] == before["v_all"]
    rows = [ln for ln in sections(text)[2] if ln.startswith("#2")]
    assert rows and all(b in row for row in rows)


def test_lines_that_start_with_a_right_to_left_word_still_run_left_to_right(qtbot):
    """'שלום is not in vocabulary' was laid out right to left, as '.is not in vocabulary: … שלום'."""
    from PySide6.QtCore import Qt

    from attnviz.engine.examples import load_example

    _model, _view, panel = make_panel(qtbot, load_example("lets-go").replace(sentence="שלום مرحبا go"), show=True)
    panel.regenerate()
    document = panel.text.document()
    block, lines = document.begin(), []
    while block.isValid():
        lines.append((block.text(), block.textDirection()))
        block = block.next()
    starts_rtl = [text for text, _ in lines if text.strip("\xa0")[:1] in ("ש", "م")]  # (a chip's spaces)
    assert starts_rtl  # the case is there: a line opening with the token
    assert all(direction == Qt.LayoutDirection.LeftToRight for _, direction in lines)


def test_the_page_says_its_results_come_from_the_full_values_not_the_rounded_ones(qtbot):
    """'(−0.36)·3.00 = −1.07' looks wrong unless the page says why: the factors shown are rounded."""
    from attnviz.engine.examples import load_example

    _model, _view, panel = make_panel(qtbot, load_example("pizza"), show=True)
    panel.regenerate()
    text = " ".join(panel.to_plain_text().split())
    assert "shown rounded (Digits, above); each result is worked out from the full values" in text


def _two_words(embeddings, W_q=((1.0, 0.0), (0.0, 1.0)), temperature=1.0, sentence="a b") -> Document:
    eye = [[1.0, 0.0], [0.0, 1.0]]
    return Document(vocab=("a", "b"), embeddings=embeddings, W_q=[W_q], W_k=[eye], W_v=[eye], sentence=sentence,
                    config=Config(positional_encoding="none", temperature=temperature))


OVERFLOWS = {
    # scores 1.6e303 and 1.2e303 are finite, ÷ √2 ÷ 1e-6 is not: the logits are ∞ and ∞
    "logits at a tiny temperature": (_two_words([[4e151, 0.0], [3e151, 0.0]], temperature=1e-6),
                                     [1.0, 0.0], "worked out from the scores before dividing by T"),
    # q · k = −1e400: the only key's score is −∞
    "a row of −∞": (_two_words([[1e200, 0.0], [0.0, 1.0]], W_q=((-1.0, 0.0), (0.0, -1.0)), sentence="a"),
                    [1.0], "spread evenly"),
    # q · k = 1e400 beside 0
    "∞ beside a number": (_two_words([[1e200, 0.0], [0.0, 1.0]]), [1.0, 0.0], "share all the weight equally"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", list(OVERFLOWS))
def test_the_softmax_step_of_an_overflowed_row_shows_what_softmax_computed(qtbot, case):
    doc, expected, note = OVERFLOWS[case]
    _, view, panel = make_panel(qtbot, doc)
    view.set_token(0)
    softmax = panel.steps()[3]
    e, total, weights = (np.array(softmax["values"][k]) for k in ("exp", "sum_exp", "weights"))
    np.testing.assert_array_equal(weights, expected)  # the limits, as the engine's weights
    np.testing.assert_array_equal(e / total, weights)  # each "e ÷ Σe = weight" line holds
    text = panel.to_plain_text()
    assert note in text
    assert "NaN" not in text and f"∞ {MINUS} " not in text  # no arithmetic on an overflowed logit


@pytest.mark.parametrize(("kind", "said", "not_said"), [
    ("none", "Its vector is its embedding: the positional encoding", "embedding plus a positional encoding"),
    ("sinusoidal", "Its vector is its embedding plus a positional encoding", "is off"),
])
def test_the_input_step_says_whether_a_position_is_added(qtbot, kind, said, not_said):
    doc = random_doc(21, 2, 2, 2, 1, 2)
    doc = doc.replace(config=dataclasses.replace(doc.config, positional_encoding=kind))
    *_, panel = make_panel(qtbot, doc)
    step = panel.to_plain_text().split("2. Query")[0]
    assert said in step and not_said not in step
