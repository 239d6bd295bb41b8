"""The row of token chips under the sentence box: coloured words that wrap like text.

It was a rich-text QLabel of links. Every keystroke gave that label new HTML,
which Qt parsed into a new text document, laid out several times to find its
height for the width, and then relaid the main window out because the label's
size might have changed: ≈ 15 ms per keystroke at 64 tokens. Here each word is
measured once, the wrap is a loop over widths, and the window is asked to lay
out again only when the number of lines changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from attnviz.gui.palette import token_color

SEPARATOR = "  ·  "
_MEMO_MAX = 4096  # widths kept per font before the memo starts over
_FAR = 1 << 30  # a step to the first or the last token (the view stops at either end)
# the keys that step through the tokens, and by how many
_STEPS = {
    Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1,
    Qt.Key.Key_Home: -_FAR, Qt.Key.Key_End: _FAR,
}


class Chip(NamedTuple):
    text: str
    token: int  # -1 for plain text (the count, "… and N more")
    selected: bool = False
    hidden: int = 0  # how many tokens a "… and N more" chip stands for


def more_chip(hidden: int, selected: bool) -> Chip:
    """The chip that stands for ``hidden`` tokens not shown (selected when the selected token is one of them)."""
    return Chip(f"… and {hidden} more", -1, selected, hidden)


class TokenChips(QWidget):
    """Shows ``Chip``s left to right, wrapping between them; a click on a token's chip emits its index.

    Chips that do not fit the widget's height (a short window, a long
    sentence) give way, from the end, to one "… and N more" chip, so that
    every chip shown can be clicked; the keyboard still reaches them all.

    Reached with Tab (a click leaves the focus where it was, say in the
    sentence box), the arrow keys step from the selected token to the next
    or previous one, Home and End to the first and the last: ``tokenStepped``
    says by how many, and whoever knows how many tokens there are stops at
    the ends. A frame in the highlight colour marks the selected chip
    meanwhile (or, with none selected, the first token's).
    """

    tokenClicked = Signal(int)
    tokenStepped = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)  # for the pointing hand over a chip
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)  # a very long word must not widen the whole window
        self._chips: list[Chip] = []  # as given
        self._shown: list[Chip] = []  # as drawn: those that fit the height, perhaps ending in a "… and N more"
        self._widths: dict[tuple[str, bool], float] = {}  # by (text, selected)
        self._set_fonts()
        self._places: list[QPointF] = []  # where each chip shown starts, at the current size
        self._lines = 0  # how many lines all the chips need at the current width
        self._heights: dict[int, int] = {}  # height for a width, for all the chips given
        self._picture: QPixmap | None = None  # the chips drawn, kept until the size or the look changes
        self._drawn: list[tuple[Chip, QPointF, bool]] = []  # what the picture shows
        self._framed: int | None = None  # the chip the picture's focus frame marks
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the picture fills the widget
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._pressed = -1  # the token whose chip the left button went down on

    # ---- content ------------------------------------------------------------
    def set_chips(self, chips: Sequence[Chip]) -> None:
        chips = list(chips)
        if chips == self._chips:
            return
        self._chips = chips
        lines = self._lines
        self._lay_out()
        self._heights.clear()
        if self._lines != lines:
            self.updateGeometry()  # only now can the window's layout change
        self.setAccessibleName(self.text())
        self.update()

    def chips(self) -> list[Chip]:
        return list(self._chips)

    def shown_chips(self) -> list[Chip]:
        """The chips drawn: those that fit, and then perhaps one for the rest."""
        return list(self._shown)

    def text(self) -> str:
        """What the chips say, as plain text (all of them, whether they fit or not)."""
        chips = self._chips
        return "".join(c.text + (SEPARATOR if _separated(chips, k) else " ") for k, c in enumerate(chips)).strip()

    def chip_rect(self, token: int) -> QRectF:
        """Where token ``token``'s chip is drawn (empty if it has none)."""
        for chip, place in zip(self._shown, self._places, strict=True):
            if chip.token == token:
                return self._rect(chip, place)
        return QRectF()

    def token_at(self, pos: QPoint | QPointF) -> int:
        """The token whose chip is under ``pos``, or -1."""
        point = QPointF(pos)
        for chip, place in zip(self._shown, self._places, strict=True):
            if chip.token >= 0 and self._rect(chip, place).contains(point):
                return chip.token
        return -1

    def _rect(self, chip: Chip, place: QPointF) -> QRectF:
        return QRectF(place.x(), place.y(), self._measure(chip), self._line)

    # ---- layout -------------------------------------------------------------
    def _measure(self, chip: Chip) -> float:
        """The chip's width in pixels."""
        key = (chip.text, chip.selected)
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) >= _MEMO_MAX:
                self._widths.clear()
            width = self._widths[key] = QFontMetricsF(self._fonts[chip.selected]).horizontalAdvance(chip.text)
        return width

    def _wrap(self, chips: list[Chip], width: int) -> tuple[list[QPointF], int]:
        """Where each chip starts in lines of ``width`` pixels, breaking only between chips; and how many lines."""
        places, x, line = [], 0.0, 0
        gap, space = self._measure(Chip(SEPARATOR, -1)), self._measure(Chip(" ", -1))
        for k, chip in enumerate(chips):
            w = self._measure(chip)
            if x > 0 and x + w > width:
                x, line = 0.0, line + 1
            places.append(QPointF(x, line * self._line))
            x += w + (gap if _separated(chips, k) else space)
        return places, (line + 1 if chips else 0)

    def _lay_out(self) -> None:
        width = self.width()
        shown = self._chips
        places, self._lines = self._wrap(shown, width)
        room = max(1, math.floor(self.height() / self._line + 1e-9))  # whole lines (one at the least)
        if self._lines > room:
            first_out = next(k for k, p in enumerate(places) if p.y() >= room * self._line)
            shown, places = self._fitting(room, width, first_out)
        self._shown, self._places = shown, places

    def _fitting(self, room: int, width: int, first_out: int) -> tuple[list[Chip], list[QPointF]]:
        """The chips before ``first_out`` (the first on a line past ``room``), fewer while a "… and N more"
        chip for the rest does not fit after them, and where they go. If even the first chip (the count)
        leaves it no room, the "… and N more" chip is shown alone."""
        keep = first_out
        while True:
            rest = self._chips[keep:]
            chips = [*self._chips[:keep], more_chip(sum(c.hidden + (c.token >= 0) for c in rest),
                                                    any(c.selected for c in rest))]
            places, lines = self._wrap(chips, width)
            if lines <= room or keep == 0:
                return chips, places
            keep -= 1

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:  # layouts ask for a few widths, many times each
            height = self._heights[width] = int(self._wrap(self._chips, width)[1] * self._line + 0.999)
        return height

    def sizeHint(self) -> QSize:
        return QSize(200, self.heightForWidth(max(self.width(), 1)))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, int(self._line + 0.999))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        lines = self._lines
        self._lay_out()  # (at the new height, too: what fits)
        # Qt's layout remembers heights for widths it asked about before the chips changed
        if self._lines != lines or self.height() < self.heightForWidth(self.width()):
            self.updateGeometry()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._picture = None
        if event.type() == QEvent.Type.FontChange:
            self._set_fonts()
            self._metrics_changed()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # another screen: new device pixels
            self._set_line()
            self._metrics_changed()
        return super().event(event)

    def _metrics_changed(self) -> None:
        self._picture = None
        self._lay_out()
        self._heights.clear()
        self.updateGeometry()

    def _set_fonts(self) -> None:
        self._fonts = {False: QFont(self.font()), True: QFont(self.font())}
        self._fonts[True].setBold(True)
        self._fonts[True].setUnderline(True)
        self._widths.clear()
        self._set_line()

    def _set_line(self) -> None:
        # Lines start on whole device pixels, so that clearing the rest of a line in _draw
        # never cuts into the line above (at 125 % or 150 % a logical pixel is not one).
        ratio = self.devicePixelRatioF()
        self._line = math.ceil(QFontMetricsF(self._fonts[True]).height() * ratio) / ratio

    # ---- painting and mouse -------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        # A window repaint (a grab, an expose) copies the picture. New chips redraw it from the
        # first one that changed or moved: typing at the end of a sentence redraws one word.
        items = self._items()
        picture = self._picture
        if (picture is None or picture.deviceIndependentSize().toSize() != self.size()
                or picture.devicePixelRatio() != self.devicePixelRatioF()):
            self._picture = self._new_picture()
            self._draw(items, 0)
        elif self._framed != self._frame_target(items):  # the focus frame moves to another chip
            self._draw(items, 0)
        elif items != self._drawn:
            first = next((k for k, (a, b) in enumerate(zip(items, self._drawn, strict=False)) if a != b),
                         min(len(items), len(self._drawn)))
            self._draw(items, first)
        self._drawn = items
        QPainter(self).drawPixmap(0, 0, self._picture)

    def _items(self) -> list[tuple[Chip, QPointF, bool]]:
        """What the picture shows: each chip, where it starts, and whether a separator follows it."""
        shown = self._shown
        return [(chip, place, _separated(shown, k)) for k, (chip, place) in enumerate(zip(shown, self._places,
                                                                                           strict=True))]

    def _new_picture(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        picture = QPixmap(self.size() * ratio)
        picture.setDevicePixelRatio(ratio)
        self._drawn = []
        return picture

    def _draw(self, items: list[tuple[Chip, QPointF, bool]], first: int) -> None:
        """Clear the picture from item ``first`` on (as drawn before and as it is now) and draw it anew."""
        background = self.palette().color(self.backgroundRole())  # opaque, as the widget says it is
        p = QPainter(self._picture)
        if first == 0:
            cleared = [QRectF(0, 0, self.width(), self.height())]
        else:  # the rest of that line, and every line below it
            starts = [item[1] for item in (self._drawn[first:first + 1] + items[first:first + 1])]
            top = min(point.y() for point in starts)
            left = self._left_of(min(point.x() for point in starts if point.y() == top))
            cleared = [QRectF(left, top, self.width() - left, self._line),
                       QRectF(0, top + self._line, self.width(), self.height())]
        for rect in cleared:
            p.fillRect(rect, background)
        plain = self.palette().color(self.foregroundRole())
        grey = QColor("#888")
        ascent = QFontMetricsF(self._fonts[True]).ascent()
        for chip, place, separated in items[first:]:
            x, y = place.x(), place.y() + ascent
            p.setFont(self._fonts[chip.selected])
            p.setPen(token_color(chip.token) if chip.token >= 0 else plain)
            p.drawText(QPointF(x, y), chip.text)
            if separated:
                p.setFont(self._fonts[False])
                p.setPen(grey)
                p.drawText(QPointF(x + self._measure(chip), y), SEPARATOR)
        self._framed = self._frame_target(items)
        if self._framed is not None:
            # only where this redraw cleared: elsewhere the frame is in the picture already (drawn
            # twice, a translucent highlight would darken), and a chip before the first redrawn one
            # can have the frame's right edge in the cleared gap after it
            clip = QPainterPath()
            for rect in cleared:
                clip.addRect(rect)
            p.setClipPath(clip)
            self._draw_frame(p, *items[self._framed][:2])
        p.end()

    def _left_of(self, x: float) -> float:
        """Where what is drawn for a chip starting at ``x`` begins: a pixel left of it, on a whole device pixel.

        A glyph's ink can begin before its origin, and the gap of a space or more before a chip holds
        none; a redraw from a chip on clears from here, so the focus frame starts here too.
        """
        ratio = self._picture.devicePixelRatio()
        return math.floor((x - 1) * ratio) / ratio

    def _frame_target(self, items: list[tuple[Chip, QPointF, bool]]) -> int | None:
        """The chip the focus frame marks: the selected one, else the first token's, else the first (None: no focus)."""
        if not self.hasFocus() or not items:
            return None
        selected = [k for k, (chip, _, _) in enumerate(items) if chip.selected]
        tokens = [k for k, (chip, _, _) in enumerate(items) if chip.token >= 0]
        return (selected or tokens or [0])[0]

    def _draw_frame(self, p: QPainter, chip: Chip, place: QPointF) -> None:
        """A one-device-pixel frame in the highlight colour around the chip, from a pixel before it to a pixel
        after it, inside the widget: on whole device pixels, so that any clip leaves the same pixels."""
        ratio = self._picture.devicePixelRatio()
        left = max(self._left_of(place.x()), 0.0)
        right = min(math.ceil((place.x() + self._measure(chip) + 1) * ratio), self._picture.width()) / ratio
        half = 0.5 / ratio  # through the middle of the outermost device pixels
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
        pen.setCosmetic(True)
        pen.setWidth(1)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(left + half, place.y() + half, right - left - 2 * half, self._line - 2 * half))
        p.restore()

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self._picture = None  # drawn again with the focus frame
        self.update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self._picture = None
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = _STEPS.get(Qt.Key(event.key()))
        if steps is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
            return
        self.tokenStepped.emit(steps)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self.token_at(event.position()) >= 0
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed = self.token_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else -1
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        # a click is a press and a release on the same chip, as with a link
        token = self.token_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and token >= 0 and token == self._pressed:
            self.tokenClicked.emit(token)
        self._pressed = -1
        super().mouseReleaseEvent(event)


def _separated(chips: list[Chip], k: int) -> bool:
    """Whether a separator follows chip ``k``: between two tokens' chips."""
    return chips[k].token >= 0 and k + 1 < len(chips) and chips[k + 1].token >= 0
