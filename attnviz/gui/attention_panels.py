"""The heatmap panels: similarity scores, softmax weights and the output.

Each one renders a slice of ``model.result`` for the current head and never
computes anything itself. A hidden panel only notes that it is out of date
and catches up when it is shown again.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from attnviz.engine import AttentionResult
from attnviz.gui.heatmap import Heatmap
from attnviz.gui.lazy_view import LazyView
from attnviz.gui.numbers import component, format_number, short
from attnviz.gui.palette import DIVERGING, SEQUENTIAL, nice_levels
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel
from attnviz.model.naming import quoted


class _ResultHeatmap(LazyView, Heatmap):
    object_name = ""

    def __init__(self, model: DocumentModel, view: ViewState, colormap, parent: QWidget | None = None) -> None:
        super().__init__(colormap, parent)
        self.setObjectName(self.object_name)
        self.model, self.view = model, view
        self.tooltip_for = self.describe_cell
        self.rowClicked.connect(view.set_token)
        model.resultChanged.connect(self.refresh)
        view.headChanged.connect(self.refresh)
        view.precisionChanged.connect(self._set_digits)
        view.tokenChanged.connect(self.set_highlighted_row)
        self.digits = view.precision

    def redraw(self) -> None:
        self.draw_result(self.model.result, min(self.view.head, self.model.result.n_heads - 1))
        self.set_highlighted_row(self.view.token)

    def draw_result(self, r: AttentionResult, head: int) -> None:
        raise NotImplementedError

    def describe_cell(self, row: int, col: int) -> str:
        raise NotImplementedError

    def _set_digits(self, digits: int) -> None:
        self.digits = digits
        self.refresh()


class _TokenByToken(_ResultHeatmap):
    """Query tokens down the side, key tokens along the top."""

    def masked(self, r: AttentionResult, head: int) -> np.ndarray | None:
        return self.model.masked() if self.model.config.causal else None

    def describe_cell(self, row: int, col: int) -> str:
        r, h, d = self.model.result, self.view.head, self.view.precision
        if h >= r.n_heads or row >= r.n_tokens or col >= r.n_tokens:
            return ""
        masked = self.model.masked()[row, col]
        logit = "−∞ (masked: a token may not look ahead)" if masked else format_number(r.logits[h, row, col], d)
        return (
            f"query {quoted(r.tokens[row])} (row {row + 1}) · key {quoted(r.tokens[col])} (column {col + 1})\n"
            f"score q·k = {format_number(r.scores[h, row, col], d)}\n"
            f"logit = {logit}\n"
            f"weight = {format_number(r.weights[h, row, col], d)}"
        )


class ScoresPanel(_TokenByToken):
    object_name = "plot:scores"

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(model, view, DIVERGING, parent)
        self.setToolTip("Similarity scores q·k: row = query token, column = key token. Click a row to select it.")

    def draw_result(self, r: AttentionResult, head: int) -> None:
        labels = _token_labels(r)
        self.set_matrix(r.scores[head], labels, labels, nice_levels(r.scores[head]), self.masked(r, head))


class WeightsPanel(_TokenByToken):
    object_name = "plot:weights"

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(model, view, SEQUENTIAL, parent)
        self.setToolTip("Softmax weights: each row adds up to 1. Grey cells are masked (causal).")

    def draw_result(self, r: AttentionResult, head: int) -> None:
        labels = _token_labels(r)
        self.set_matrix(r.weights[head], labels, labels, (0.0, 1.0), self.masked(r, head))


class OutputPanel(_ResultHeatmap):
    object_name = "plot:output"

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(model, view, DIVERGING, parent)
        self.setToolTip("The self-attention output: one row per token (all heads, after W_o and residual if on).")

    def draw_result(self, r: AttentionResult, head: int) -> None:
        cols = [f"y{component(j)}" for j in range(r.output.shape[1])]
        self.set_matrix(r.output, _token_labels(r), cols, nice_levels(r.output))

    def describe_cell(self, row: int, col: int) -> str:
        r = self.model.result
        if row >= r.n_tokens or col >= r.output.shape[1]:
            return ""
        value = format_number(r.output[row, col], self.view.precision)
        return f"output of {quoted(r.tokens[row])}, component {col + 1}: {value}"


def _token_labels(r: AttentionResult) -> list[str]:
    return [short(t) for t in r.tokens]
