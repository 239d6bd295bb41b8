"""Help ▸ Primer: a short offline page on what self-attention does, step by step.

The text lives in ``resources/primer/primer.html`` so it can be edited
without touching code. Its numbers are not typed into the page: ``{{name}}``
placeholders are filled from the engine's pass over the bundled ``lets-go``
example when the page opens, so they can never disagree with it. Links of the
form ``panel:NAME`` ask the main window to show that panel; the dialog only
emits the name.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from attnviz.engine import forward
from attnviz.engine.examples import load_example
from attnviz.gui.numbers import format_number
from attnviz.resources_path import resource_path

# The panels the primer may point at; the main window maps each to a dock/tab.
KNOWN_PANELS = (
    "calculation",
    "embeddings",
    "W_q",
    "scores",
    "weights",
    "selected",
    "output",
    "lines",
    "pe",
)


def primer_html() -> str:
    """The primer page with its numbers filled in, or one paragraph naming where it should be."""
    path = resource_path("primer", "primer.html")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return f"<p>The primer could not be read from <code>{path}</code>: {err.strerror or err}.</p>"
    for name, value in lets_go_numbers().items():
        text = text.replace("{{" + name + "}}", value)
    return text


def num(v: float) -> str:
    return format_number(v, 2)


def vec(a) -> str:
    return "(" + ", ".join(num(v) for v in a) + ")"


def lets_go_numbers() -> dict[str, str]:
    """The numbers the primer quotes, from the engine's pass over the lets-go example."""
    r = forward(load_example("lets-go"))
    e = np.exp(r.logits[0, 0] - r.logits[0, 0].max())
    return {
        "e0": vec(r.embeddings[0]), "pe0": vec(r.pe[0]), "x0": vec(r.x[0]), "x1": vec(r.x[1]),
        "q0": vec(r.q[0, 0]), "k0": vec(r.k[0, 0]), "k1": vec(r.k[0, 1]),
        "v0": vec(r.v[0, 0]), "v1": vec(r.v[0, 1]),
        "s00": num(r.scores[0, 0, 0]), "s01": num(r.scores[0, 0, 1]),
        "l00": num(r.logits[0, 0, 0]), "l01": num(r.logits[0, 0, 1]),
        "e00": num(e[0]), "e01": num(e[1]), "esum": num(e.sum()),
        "a00": num(r.weights[0, 0, 0]), "a01": num(r.weights[0, 0, 1]),
        "y0": vec(r.heads[0, 0]),
    }


class PrimerDialog(QDialog):
    """A non-modal page; ``panelRequested(name)`` fires when a panel link is clicked."""

    panelRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialog:primer")
        self.setWindowTitle("Primer: self-attention in three steps")
        self.resize(640, 720)

        self.browser = QTextBrowser(self)
        self.browser.setObjectName("primer:browser")
        # We route every link ourselves: panel: links go to the window, #anchors scroll.
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(primer_html())
        self.browser.anchorClicked.connect(self._on_link)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "panel":
            name = url.path()
            if name in KNOWN_PANELS:
                self.panelRequested.emit(name)
        elif url.hasFragment() and not url.scheme():
            self.browser.scrollToAnchor(url.fragment())
        # Anything else (http, file) is ignored on purpose: the primer is offline.
