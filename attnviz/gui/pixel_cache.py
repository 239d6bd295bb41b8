"""Keeping the pixels of plot parts that an edit does not change.

Every repaint of a pyqtgraph scene calls each item's paint() again, in
Python for most items, although the axes, colour bars and titles look the
same before and after an edit. With Qt's DeviceCoordinateCache an item is
painted once into a pixmap that later repaints copy; the item's own
``update()`` (which pyqtgraph calls whenever ticks, ranges, levels or text
change) throws the pixmap away, and so does a new size.

Items that change on every edit (images, cell numbers, bars) are left
uncached: for them a cache is one more copy per frame.

Vector output must not use the pixmaps (an SVG would get bitmap axes), so
it renders inside :func:`painted_afresh`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsWidget

from attnviz.gui.numbers import signed
from attnviz.gui.plot_bounds import MarginBounds, RectPlotItem

_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache
_NO_CACHE = QGraphicsItem.CacheMode.NoCache
_AXES = ("left", "bottom", "right", "top")
# _string_specs follows pyqtgraph 0.14's generateDrawSpecs step by step (the tests
# compare the two); under another version pyqtgraph lays the axis out itself.
_OWN_SPECS = pg.__version__.startswith("0.14.")


def cache_pixels(*items: QGraphicsItem | None) -> None:
    """Paint each item into a pixmap that is reused until the item calls update()."""
    for item in items:
        if item is None:
            continue
        item.setCacheMode(_CACHED)
        # Qt moves a cached pixmap by whole pixels only: repaint after a move
        # (a layout change), so the item looks exactly as if painted directly
        owner = item if isinstance(item, QGraphicsWidget) else item.parentWidget()
        if owner is not None:
            owner.geometryChanged.connect(item.update)


_TEXT_ALIGN = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextDontClip,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextDontClip,
}
_MEASURED_MAX = 4096  # text sizes remembered per axis before the memo starts over
_KEPT_LAYOUTS = 16  # numeric layouts remembered per axis before it starts over
_LAID_OUT = QPicture()  # stands in for pyqtgraph's picture of an axis drawn from its specs


class CachedAxisItem(MarginBounds, pg.AxisItem):
    """An axis (and its label) kept as pixels, with a one-pixel margin.

    pyqtgraph draws the axis line one pixel past the axis's bounding rectangle,
    so that the axes of a frame meet at the corners; a cache of the bare
    rectangle would cut those pixels off.

    Token labels change with every keystroke, so relabelling is kept cheap:
    ticks equal to the ones shown are ignored (pyqtgraph would lay the axis
    out and paint it again), and explicit string ticks are laid out by
    :meth:`_string_specs`, which gives the draw specs pyqtgraph's
    ``generateDrawSpecs`` would, but measures each text once per axis and
    font instead of once per paint.

    A numeric axis (a colour bar's) keeps the pictures of its last few
    layouts by everything the layout reads (:meth:`_layout_key`): the
    colour bars' levels are rounded (``palette.nice_levels``), so while a
    value is dragged or a word is typed a bar flips between a few scales,
    and pyqtgraph's generic layout of one costs 2–3 ms.
    """

    # The tickStrings that a kept layout may stand for: their texts depend on nothing the layout
    # key leaves out (they read the tick values, the scale and the spacing). A subclass's own is
    # laid out afresh each time unless it names it here.
    _KEYED_TICK_STRINGS: tuple = (pg.AxisItem.tickStrings,)

    def __init__(self, orientation: str, **kwargs) -> None:
        self._measured: dict[str, tuple[float, float]] = {}  # text -> (width, 0.8 × height) as pyqtgraph measures
        self._measured_font = ""
        self._layouts: dict[tuple, tuple[QPicture, float]] = {}  # layout key -> (picture, text size)
        self._layout_size: float | None = None  # what the last layout told _updateMaxTextSize
        self._specs: tuple | None = None  # explicit ticks: the draw specs of the last layout
        super().__init__(orientation, **kwargs)
        self._grow_bounds()
        cache_pixels(self, self.label)

    def setTicks(self, ticks) -> None:
        if ticks is not None and ticks == self._tickLevels:
            return  # the same ticks: keep the picture (and the cached pixels)
        # a copy, so that a caller changing its list later cannot make the comparison lie
        super().setTicks(None if ticks is None else [list(level) for level in ticks])

    def paint(self, p: QPainter, opt, widget) -> None:
        if self._tickLevels is not None and _OWN_SPECS:
            self._paint_labels(p)
            return
        key = self._layout_key() if self.picture is None else None
        if key is None:
            super().paint(p, opt, widget)
            return
        kept = self._layouts.get(key)
        if kept is not None:
            picture, size = kept
            self._updateMaxTextSize(size)  # as laying it out would have (it forgets the picture)
            self.picture = picture
            super().paint(p, opt, widget)
            return
        self._layout_size = None
        super().paint(p, opt, widget)
        if self._layout_size is not None:  # else pyqtgraph drew nothing (no length on screen)
            if len(self._layouts) >= _KEPT_LAYOUTS:
                self._layouts.clear()
            self._layouts[key] = (self.picture, self._layout_size)

    def _paint_labels(self, p: QPainter) -> None:
        """Explicit ticks drawn straight from their draw specs.

        pyqtgraph records an axis into a QPicture and plays that back; for
        token labels, which change with every keystroke and are drawn once
        into the cached pixels, the recording is pure overhead.
        """
        font = self._tick_font()
        if self.picture is None:  # pyqtgraph's sign that the axis must be laid out again
            # measured on a picture, as pyqtgraph measures, whatever device paints now (an SVG is 72 dpi)
            device = QPicture()  # (named: a painter does not keep its device alive)
            layout = QPainter(device)
            try:
                layout.setFont(font)
                self._specs = self.generateDrawSpecs(layout)
            finally:
                layout.end()
            self.picture = _LAID_OUT
        if self._specs is not None:
            p.save()
            p.setFont(font)
            self.drawPicture(p, *self._specs)
            p.restore()

    def _tick_font(self) -> QFont:
        """The font pyqtgraph lays the ticks out in: theirs, or what a new QPicture's painter starts with."""
        return self.style["tickFont"] or QFont()

    def _updateMaxTextSize(self, x: float) -> None:
        self._layout_size = x
        super()._updateMaxTextSize(x)

    def _layout_key(self) -> tuple | None:
        """Everything pyqtgraph 0.14's layout of linear numeric ticks reads, or None for axes not kept this way."""
        if (
            self._tickLevels is not None
            or self.grid is not False
            or self.logMode
            or not _OWN_SPECS
            or type(self).tickValues is not pg.AxisItem.tickValues
            or type(self).tickStrings not in self._KEYED_TICK_STRINGS
        ):
            return None
        bounds = self.mapRectFromParent(self.geometry())
        ends = [self.mapToDevice(point) for point in _span(self.orientation, bounds)[0]]
        if None in ends:
            return None
        font = self._tick_font()
        return (
            bounds.getRect(),
            pg.Point(ends[1] - ends[0]).length(),  # the ticks' density depends on it
            tuple(self.range),
            repr(self._tickSpacing),
            self._tickDensity,
            self.scale,
            self.autoSIPrefixScale,
            tuple((name, _frozen(value)) for name, value in sorted(self.style.items()) if name != "tickFont"),
            font.key(),  # the tick font, or the application's
            _pen_key(self.pen()),
            _pen_key(self.tickPen()),
            _pen_key(self.textPen()),
        )

    def generateDrawSpecs(self, p: QPainter):
        specs = self._string_specs(p) if _OWN_SPECS else None
        return _exact(specs if specs is not None else super().generateDrawSpecs(p))

    def _text_size(self, p: QPainter, text: str) -> tuple[float, float]:
        size = self._measured.get(text)
        if size is None:
            if len(self._measured) >= _MEASURED_MAX:
                self._measured.clear()
            br = p.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, text)
            size = self._measured[text] = (br.width(), br.height() * 0.8)  # as pyqtgraph shrinks it
        return size

    def _string_specs(self, p: QPainter):
        """pyqtgraph's draw specs for one level of explicit ticks without a grid, or None for any other axis.

        Follows ``AxisItem.generateDrawSpecs`` step by step (same arithmetic,
        so the same pixels); tests compare the two.
        """
        levels, style = self._tickLevels, self.style
        if (
            levels is None
            or len(levels) != 1
            or self.grid is not False
            or not style["showValues"]
            or style["maxTextLevel"] < 0
            or tuple(style["stopAxisAtTick"]) != (False, False)
            or style["tickAlpha"] is not None
        ):
            return None
        font = style["tickFont"]
        if font is not None:
            p.setFont(font)
        font_key = p.font().key()
        if font_key != self._measured_font:
            self._measured.clear()
            self._measured_font = font_key
        bounds = self.mapRectFromParent(self.geometry())
        orientation = self.orientation
        span, tick_stop, tick_dir, axis = _span(orientation, bounds)
        tick_start = tick_stop  # no grid: ticks start on the axis
        ends = [self.mapToDevice(point) for point in span]
        if None in ends:
            return None
        if pg.Point(ends[1] - ends[0]).length() == 0:
            return None
        lo, hi = self.range[0], self.range[1]
        dif = hi - lo
        if dif == 0:
            x_scale, offset = 1, 0
        elif axis == 0:
            x_scale = -bounds.height() / dif
            offset = lo * x_scale - bounds.height()
        else:
            x_scale = bounds.width() / dif
            offset = lo * x_scale
        x_min, x_max = sorted((lo * x_scale - offset, hi * x_scale - offset))
        tick_length = style["tickLength"]
        tick_pen = self.tickPen()
        if tick_pen.brush().style() == Qt.BrushStyle.SolidPattern:
            tick_pen = QPen(tick_pen)
            color = QColor(tick_pen.color())
            color.setAlpha(255)  # pyqtgraph's alpha for the first level without a grid
            tick_pen.setColor(color)
        text_offset = max(0, tick_length) + style["tickTextOffset"][axis]
        flags = _TEXT_ALIGN[orientation]
        clip = self.boundingRect()
        tick_specs, text_specs = [], []
        thickness = 0.0  # the largest text extent across the axis
        for value, text in levels[0]:
            x = (value * x_scale) - offset
            if x < x_min or x > x_max:
                continue
            if axis == 0:
                tick_specs.append((tick_pen, QPointF(tick_start, x), QPointF(tick_stop + tick_length * tick_dir, x)))
            else:
                tick_specs.append((tick_pen, QPointF(x, tick_start), QPointF(x, tick_stop + tick_length * tick_dir)))
            width, height = self._text_size(p, text)
            thickness = max(thickness, width if axis == 0 else height)
            if orientation == "left":
                rect = QRectF(tick_stop - text_offset - width, x - (height / 2), width, height)
            elif orientation == "right":
                rect = QRectF(tick_stop + text_offset, x - (height / 2), width, height)
            elif orientation == "top":
                rect = QRectF(x - width / 2.0, tick_stop - text_offset - height, width, height)
            else:
                rect = QRectF(x - width / 2.0, tick_stop + text_offset, width, height)
            if clip & rect == rect:
                text_specs.append((rect, flags, text))
        if tick_specs:  # no labels at all (no tokens): keep the room for them, so the plot does not jump
            self._updateMaxTextSize(thickness)
        return (self.pen(), span[0], span[1]), tick_specs, text_specs

    # Qt asks for the bounds several times an item a paint (sixty times an edit
    # in the window): Qt answers them (MarginBounds), from window frame margins
    # that hold what pyqtgraph's boundingRect adds, and one pixel more for the
    # axis line's end; they are measured again whenever what pyqtgraph's reads
    # may have changed.

    def setStyle(self, **kwargs) -> None:
        try:
            super().setStyle(**kwargs)
        finally:  # (pyqtgraph may refuse a value after taking others)
            self._grow_bounds()

    def setGrid(self, grid) -> None:
        super().setGrid(grid)
        self._grow_bounds()

    def linkToView(self, view) -> None:
        super().linkToView(view)
        self._grow_bounds()

    def linkedViewChanged(self, view, newRange=None) -> None:
        super().linkedViewChanged(view, newRange)
        self._grow_bounds()  # a grid reaches over the view, which moved or changed size

    def unlinkFromView(self) -> None:
        super().unlinkFromView()
        self._grow_bounds()

    def _grow_bounds(self) -> None:
        if not isinstance(self.style, dict):  # (until pyqtgraph's __init__ has given the axis its style)
            return
        rect = self.mapRectFromParent(self.geometry())
        grown = pg.AxisItem.boundingRect(self)
        self.setWindowFrameMargins(rect.left() - grown.left() + 1, rect.top() - grown.top() + 1,
                                   grown.right() - rect.right() + 1, grown.bottom() - rect.bottom() + 1)


def _span(orientation: str, bounds: QRectF) -> tuple[tuple[QPointF, QPointF], float, int, int]:
    """The axis line's ends, where ticks stop, which way they point, and the axis (0 = y), as pyqtgraph has them."""
    if orientation == "left":
        span = (bounds.topRight() + QPointF(-1.0, -1.0), bounds.bottomRight() + QPointF(-1.0, 1.0))
        return span, bounds.right(), -1, 0
    if orientation == "right":
        span = (bounds.topLeft() + QPointF(1.0, -1.0), bounds.bottomLeft() + QPointF(1.0, 1.0))
        return span, bounds.left(), 1, 0
    if orientation == "top":
        span = (bounds.bottomLeft() + QPointF(-1.0, -1.0), bounds.bottomRight() + QPointF(1.0, -1.0))
        return span, bounds.bottom(), -1, 1
    span = (bounds.topLeft() + QPointF(-1.0, 1.0), bounds.topRight() + QPointF(1.0, 1.0))
    return span, bounds.top(), 1, 1


def _exact(specs):
    """Draw specs with every coordinate rounded to a millionth of a pixel.

    pyqtgraph puts ticks on whole pixels, that is on the boundary between two
    rows of pixels, and computes them in floating point: a tick meant for
    y = 99 comes out as 98.99999999999999 or 99.00000000000001. Which row
    such a line fills then depends on the rounding of adding the item's
    offset on the device, and a cached pixmap's offset is not the view's:
    the cached axis drew some ticks a pixel away from the axis painted
    directly. Rounded, a coordinate meant to be whole is whole, and lands
    on the same row from any whole-pixel offset.
    """
    if specs is None:
        return None
    (pen, p1, p2), ticks, texts = specs
    return (
        (pen, _exact_point(p1), _exact_point(p2)),
        [(tick_pen, _exact_point(a), _exact_point(b)) for tick_pen, a, b in ticks],
        [(QRectF(round(r.x(), 6), round(r.y(), 6), round(r.width(), 6), round(r.height(), 6)), flags, text)
         for r, flags, text in texts],
    )


def _exact_point(point: QPointF) -> pg.Point:
    return pg.Point(round(point.x(), 6), round(point.y(), 6))


def _pen_key(pen: QPen) -> tuple:
    return (pen.color().rgba(), pen.widthF(), pen.style(), pen.isCosmetic(), pen.capStyle(), pen.joinStyle(),
            pen.brush().style(), tuple(pen.dashPattern()))


def _frozen(value):
    """A style value as a dictionary key (lists as tuples)."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


class ColorBarAxisItem(CachedAxisItem):
    """A colour bar's axis: the width pyqtgraph fixes for it (45 px) is its least, and wider labels widen it.

    At a fixed width pyqtgraph leaves out every label that does not fit: a bar from −150000 to
    150000 was labelled "0" and "50000" only. The widest label is measured when the axis is laid
    out (the kept layouts remember it), so the axis widens once for a new scale and the layout
    then draws every label.

    Its labels are pyqtgraph's with the real minus sign the rest of the app prints ("−0.5", not "-0.5").
    """

    def tickStrings(self, values, scale, spacing) -> list[str]:
        # pyqtgraph measures these very texts as it lays the axis out, so the widths it asks for
        # (and the kept layouts remember) are those of the minus, which is wider than a hyphen
        return [signed(text) for text in super().tickStrings(values, scale, spacing)]

    _KEYED_TICK_STRINGS = (tickStrings,)  # a pure function of the values, scale and spacing

    def _updateWidth(self) -> None:
        least, style = self.fixedWidth, self.style
        if least is None or not self.isVisible() or not style["showValues"]:
            super()._updateWidth()
            return
        # pyqtgraph's width for an axis of no fixed width, in whole pixels: a fractional width puts
        # the items beside it between pixels, where their cached pixmaps (pasted at whole pixels) do not land
        width = self.textWidth if style["autoExpandTextSpace"] else style["tickTextWidth"]
        width += style["tickTextOffset"][0] + max(0, style["tickLength"])
        if self.label.isVisible():
            width += self.label.boundingRect().height() * 0.8
        width = max(math.ceil(width), least)
        self.setMaximumWidth(width)
        self.setMinimumWidth(width)
        self.picture = None


def cached_axes(*names: str, kind: type[CachedAxisItem] = CachedAxisItem) -> dict[str, CachedAxisItem]:
    """Cached axes for a PlotItem's ``axisItems``; PlotItem shows the axes it is given."""
    return {name: kind(name) for name in names}


def cache_title(plot: pg.PlotItem) -> None:
    """Keep a plot's title as pixels; a new title text repaints it."""
    cache_pixels(plot.titleLabel.item)


class _PlotWithCachedAxes(RectPlotItem):
    # ColorBarItem builds its PlotItem without arguments; placed after it in
    # the MRO, this hands PlotItem cached axes instead of plain ones, no menu,
    # and bounds answered in C++ (gui/plot_bounds.py)
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("axisItems", cached_axes(*_AXES, kind=ColorBarAxisItem))
        kwargs.setdefault("enableMenu", False)
        super().__init__(*args, **kwargs)


class CachedColorBarItem(pg.ColorBarItem, _PlotWithCachedAxes):
    """A colour bar whose axes and gradient are kept as pixels; new levels repaint its axis.

    It has no menus: pyqtgraph's colour-map menu (a right click) would let the bar and its image
    take another map than the one the plot reads its text colours and meaning from.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("colorMapMenu", False)
        super().__init__(*args, **kwargs)
        cache_pixels(self.bar)


@contextlib.contextmanager
def painted_afresh(scene: QGraphicsScene) -> Iterator[None]:
    """Within the block every item of ``scene`` paints itself instead of pasting its cached pixmap."""
    cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != _NO_CACHE]
    for item, _mode in cached:
        item.setCacheMode(_NO_CACHE)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
