"""Help ▸ Primer: a short offline page on what self-attention does, step by step.

The text lives in ``resources/primer/primer.html`` so it can be edited
without touching code. It speaks in symbols rather than numbers: the numbers
belong to the example file and the panels, and a copy here would go stale
the moment someone edits the example. Links of the form ``panel:NAME`` ask
the main window to show that panel; the dialog only emits the name.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

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
    """The primer page, or a one-paragraph apology naming where it should be."""
    path = resource_path("primer", "primer.html")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        return f"<p>The primer could not be read from <code>{path}</code>: {err.strerror or err}.</p>"


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
