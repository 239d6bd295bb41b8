"""Help ▸ Primer: the page loads, covers the three steps, and its panel links work."""

import re

from PySide6.QtCore import QUrl

from attnviz.gui.primer import KNOWN_PANELS, PrimerDialog, primer_html
from attnviz.resources_path import resource_path


def test_resource_found():
    path = resource_path("primer", "primer.html")
    assert path.is_file()


def test_html_has_the_three_steps_and_qkv():
    html = primer_html()
    text = re.sub(r"<[^>]+>", "", html)
    for phrase in ("Step 1", "Step 2", "Step 3", "Query", "Key", "Value", "softmax", "pizza", "√d"):
        assert phrase in text, phrase
    assert "looking for" in text and "offers to be matched" in text and "contributes" in text


def test_every_panel_link_is_known():
    links = re.findall(r'href="panel:([^"]+)"', primer_html())
    assert links
    assert set(links) <= set(KNOWN_PANELS)
    # Every step points somewhere; the core panels are all reachable.
    assert {"calculation", "W_q", "scores", "weights", "output", "lines", "pe"} <= set(links)


def test_dialog_shows_page(qtbot):
    dlg = PrimerDialog()
    qtbot.addWidget(dlg)
    assert dlg.objectName() == "dialog:primer"
    plain = dlg.browser.toPlainText()
    assert "Step 1" in plain and "Step 3" in plain
    assert not dlg.browser.openLinks()


def test_clicking_panel_link_emits(qtbot):
    dlg = PrimerDialog()
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.panelRequested) as blocker:
        dlg.browser.anchorClicked.emit(QUrl("panel:weights"))
    assert blocker.args == ["weights"]
    with qtbot.assertNotEmitted(dlg.panelRequested):
        dlg.browser.anchorClicked.emit(QUrl("panel:nonsense"))
        dlg.browser.anchorClicked.emit(QUrl("https://example.com"))
        dlg.browser.anchorClicked.emit(QUrl("#step2"))


def test_the_primer_quotes_the_lets_go_numbers_as_the_formula_gives_them():
    import math

    import numpy as np

    from attnviz.engine.examples import load_example
    from attnviz.gui.primer import primer_html

    doc = load_example("lets-go")
    html = primer_html()
    assert "{{" not in html
    emb = np.array([doc.embeddings[doc.vocab.index("let's")], doc.embeddings[doc.vocab.index("go")]])
    x = emb + np.array([[math.sin(0), math.cos(0)], [math.sin(1), math.cos(1)]])
    q, k, v = x @ doc.W_q[0], x @ doc.W_k[0], x @ doc.W_v[0]
    logits = q[0] @ k.T / math.sqrt(2)
    a = np.exp(logits) / np.exp(logits).sum()
    y = a @ v
    for value in (*x[0], *q[0], *a, *y):
        assert f"{value:.2f}".replace("-", "−") in html, value
