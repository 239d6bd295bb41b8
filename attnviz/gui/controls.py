"""Dimension and option controls: they show the model's values and call its setters."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from attnviz.engine import AttnvizError
from attnviz.gui.numbers import parse_number
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel
from attnviz.model.document_model import MAX_DIMENSION

# The temperature slider is logarithmic: position p means 10^(p / STEPS_PER_DECADE).
STEPS_PER_DECADE = 50
T_MIN, T_MAX = 0.01, 100.0
# What can be typed into the temperature box (a file may hold any temperature > 0: the box shows it as it is).
TYPED_T_MIN, TYPED_T_MAX = 1e-6, 1e6


class DimensionBox(QSpinBox):
    """A whole number in the box's range. Every key is kept as typed (Qt dropped the key that took a
    number past the range: 5000 became 500); what is not such a number when editing ends is named in
    ``refused``, and the box goes back to its value."""

    refused = Signal(str)

    def validate(self, text: str, pos: int):
        # in the box's locale, as Qt shows the number (Arabic-Indic digits under ar_EG, say)
        value, ok = self.locale().toInt(text.strip())
        if ok and self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        # Qt calls this when editing ends on a text validate() did not accept; it then shows the value again
        if text.strip():
            self.refused.emit(f"{self._label} must be a whole number from {self.minimum()} to {self.maximum()}, "
                              f"got {text.strip()!r}")
        return text

    @property
    def _label(self) -> str:
        return self.objectName().removeprefix("spin:").replace("heads", "number of heads")


def _spin(name: str, tooltip: str, lo: int, hi: int) -> DimensionBox:
    box = DimensionBox()
    box.setObjectName(name)
    box.setRange(lo, hi)
    box.setToolTip(tooltip)
    box.setKeyboardTracking(False)  # typing "12" must not resize to 1 first
    return box


def _check(name: str, text: str, tooltip: str) -> QCheckBox:
    box = QCheckBox(text)
    box.setObjectName(name)
    box.setToolTip(tooltip)
    return box


class DimensionControls(QWidget):
    """d_model, d_k (= d_v), number of heads, and which head is shown."""

    def __init__(self, model: DocumentModel, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = model, view
        self.d_model = _spin("spin:d_model", "d_model: length of each token vector", 1, MAX_DIMENSION)
        self.d_k = _spin("spin:d_k", "d_k: length of each query and key vector (and of each value vector, "
                         "d_v, while the two are equal)", 1, MAX_DIMENSION)
        self.n_heads = _spin("spin:heads", "Number of attention heads", 1, MAX_DIMENSION)
        self.head = _spin("spin:head", "Which head the tables and plots show", 1, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        boxes = (("d_model", self.d_model), ("d_k", self.d_k), ("heads", self.n_heads), ("show head", self.head))
        for label, box in boxes:
            text = QLabel(label)
            text.setBuddy(box)
            layout.addWidget(text)
            layout.addWidget(box)
        layout.addStretch(1)
        self.d_model.valueChanged.connect(lambda n: self._resize(d_model=n))
        self.d_k.valueChanged.connect(self._resize_d_k)
        self.n_heads.valueChanged.connect(lambda n: self._resize(n_heads=n))
        self.head.valueChanged.connect(lambda n: view.set_head(n - 1))
        for box in (self.d_model, self.d_k, self.n_heads, self.head):
            box.refused.connect(self._refused)
        model.structureChanged.connect(self.sync)
        model.documentReset.connect(self.sync)
        view.headChanged.connect(self.sync)
        self.error = None  # set by the window: a callable taking a one-line message
        self.sync()

    def sync(self, *_args) -> None:
        m = self.model
        for box, value in ((self.d_model, m.d_model), (self.d_k, m.d_k), (self.n_heads, m.n_heads)):
            blocked = box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(blocked)
        blocked = self.head.blockSignals(True)
        self.head.setMaximum(m.n_heads)
        self.head.setValue(self.view.head + 1)
        self.head.blockSignals(blocked)

    def _refused(self, message: str) -> None:
        if self.error:
            self.error(message)

    def _resize_d_k(self, n: int) -> None:
        # d_v follows d_k while they are equal (the usual head); a file's own d_v is left alone
        if self.model.d_v == self.model.d_k:
            self._resize(d_k=n, d_v=n)
        else:
            self._resize(d_k=n)

    def _resize(self, **dims: int) -> None:
        try:
            self.model.resize(**dims)
        except (AttnvizError, MemoryError) as e:
            message = str(e) if isinstance(e, AttnvizError) else (
                "not enough memory to resize to " + ", ".join(f"{name} = {n}" for name, n in dims.items()))
            if self.error:
                self.error(message)
            self.sync()


class TemperatureBox(QDoubleSpinBox):
    """Shows the document's temperature as it is (0.005, 250, 1e-09), not rounded to the slider's range.

    Every keystroke is kept as typed: a text that is not (yet) a temperature is
    "intermediate", never refused key by key, since refusing a key silently
    changes the number meant ("0.05" would become ".5", "2,5" "25"). What is
    still not a temperature when editing ends is named in ``refused``, and the
    box goes back to the document's value.
    """

    refused = Signal(str)  # a one-line message naming what was typed and why it is no temperature
    _document_t: float | None = None  # the document's temperature, when the box cannot hold it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # the box must hold a file's temperature as it is
        self.setRange(TYPED_T_MIN, TYPED_T_MAX)
        self.setSingleStep(0.1)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self._typed = ""  # what was typed since editing last ended
        self.lineEdit().textEdited.connect(self._remember_typed)
        self.editingFinished.connect(self._took_the_held_end)

    def _remember_typed(self, text: str) -> None:
        self._typed = text

    def _took_the_held_end(self) -> None:
        """Typed, the very end the box holds for a document temperature beyond it is no change to Qt (the
        value is the same): say it is one."""
        typed, self._typed = self._typed, ""
        value = _parse_temperature(typed) if typed and self._document_t is not None else None
        if value is not None and value == self.value():
            self._document_t = None
            self.valueChanged.emit(value)

    def show_temperature(self, t: float) -> None:
        """Show ``t``; past what the box holds, the box holds its nearest end but shows ``t``."""
        self._document_t = None if self.minimum() <= t <= self.maximum() else t
        self.setValue(t)
        self.lineEdit().setText(self.textFromValue(self.value()))  # setValue skips this when the end is held already

    def textFromValue(self, value: float) -> str:
        if self._document_t is not None and value == min(max(self._document_t, self.minimum()), self.maximum()):
            value = self._document_t
        # lossless for what the box holds: Enter on an untouched box must not round T
        text = f"{value:.6g}"
        return f"{value:.2f}" if float(f"{value:.2f}") == value and 0.01 <= value < 1000 else text

    def valueFromText(self, text: str) -> float:
        if text == self.textFromValue(self.value()):
            return self.value()  # untouched: keep every digit, not just the ones shown
        value = _parse_temperature(text)
        return self.value() if value is None or not self.minimum() <= value <= self.maximum() else value

    def validate(self, text: str, pos: int):
        if text == self.textFromValue(self.value()):
            return QValidator.State.Acceptable, text, pos
        value = _parse_temperature(text)
        if value is not None and self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        # Qt calls this when editing ends on a text validate() did not accept; it then shows the value again
        if text.strip():
            self.refused.emit(
                f"temperature {text.strip()!r} is not a number from {TYPED_T_MIN:g} to {TYPED_T_MAX:g} "
                "(write e.g. 0.05 or 2.5)"
            )
        return text


def _parse_temperature(text: str) -> float | None:
    """A finite number written plainly (no "1_0" or "1,5"), else None."""
    try:
        return parse_number(text)
    except AttnvizError:
        return None


class OptionControls(QWidget):
    """Scale, causal mask, temperature, positional encoding, residual, W_o."""

    def __init__(self, model: DocumentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.scale = _check("check:scale", "÷√d_k", "Divide the scores by √d_k before softmax (scaled dot-product)")
        self.causal = _check("check:causal", "causal", "Causal mask: a token may only look at itself and earlier ones")
        self.pe = _check("check:pe", "position", "Add the sinusoidal positional encoding to each embedding")
        self.residual = _check("check:residual", "residual", "Add x to the output (needs output width = d_model)")
        self.W_o = _check("check:W_o", "W_o", "Project the concatenated heads with an output matrix W_o")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("slider:temperature")
        self.slider.setRange(round(math.log10(T_MIN) * STEPS_PER_DECADE), round(math.log10(T_MAX) * STEPS_PER_DECADE))
        self.slider.setToolTip("Temperature (log scale): high flattens the weights, low sharpens them")
        self.slider.setMinimumWidth(90)
        self.temperature = TemperatureBox()
        self.temperature.setObjectName("spin:temperature")
        self.temperature.setKeyboardTracking(False)
        self.temperature.setToolTip("Temperature: the logits are divided by it before softmax (> 0)")
        # two rows, so the window can be narrow
        switches = QHBoxLayout()
        for box in (self.scale, self.causal, self.pe, self.residual, self.W_o):
            switches.addWidget(box)
        switches.addStretch(1)
        temperature = QHBoxLayout()
        label = QLabel("temperature")
        label.setBuddy(self.temperature)
        temperature.addWidget(label)
        temperature.addWidget(self.slider, 1)
        temperature.addWidget(self.temperature)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(switches)
        layout.addLayout(temperature)
        self.error = None
        self.scale.toggled.connect(lambda on: self._set("scale", on))
        self.causal.toggled.connect(lambda on: self._set("causal", on))
        self.residual.toggled.connect(lambda on: self._set("residual", on))
        self.pe.toggled.connect(lambda on: self._set("positional_encoding", "sinusoidal" if on else "none"))
        self.W_o.toggled.connect(self._set_W_o)
        self.slider.valueChanged.connect(lambda p: self._set("temperature", round(10 ** (p / STEPS_PER_DECADE), 2)))
        self.temperature.valueChanged.connect(lambda t: self._set("temperature", t))
        self.temperature.refused.connect(self._refused)
        model.configChanged.connect(self.sync)
        model.structureChanged.connect(self.sync)
        model.documentReset.connect(self.sync)
        self.sync()

    def sync(self, *_args) -> None:
        c = self.model.config
        values = (
            (self.scale, c.scale),
            (self.causal, c.causal),
            (self.pe, c.positional_encoding != "none"),
            (self.residual, c.residual),
            (self.W_o, self.model.has_W_o),
        )
        for box, on in values:
            blocked = box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(blocked)
        blocked = self.temperature.blockSignals(True)
        self.temperature.show_temperature(c.temperature)
        self.temperature.blockSignals(blocked)
        blocked = self.slider.blockSignals(True)
        self.slider.setValue(round(math.log10(min(max(c.temperature, T_MIN), T_MAX)) * STEPS_PER_DECADE))
        self.slider.blockSignals(blocked)

    def _set(self, name: str, value) -> None:
        try:
            self.model.set_option(name, value)
        except AttnvizError as e:
            if self.error:
                self.error(str(e))
            self.sync()

    def _refused(self, message: str) -> None:
        if self.error:
            self.error(message)

    def _set_W_o(self, on: bool) -> None:
        try:
            self.model.set_output_projection(on)
        except AttnvizError as e:
            if self.error:
                self.error(str(e))
            self.sync()
