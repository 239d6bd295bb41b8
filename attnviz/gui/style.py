"""The application's widget style: Fusion, with what it would draw the same again kept.

- **Dock title icons** (:class:`KeptIconStyle`, the application's style).
  Qt's Fusion style builds the icons of a dock's close and float buttons
  anew each time it is asked for them: six PNG files each, read, decoded
  and looked up among the icon-engine plugins. It is asked on every paint
  of every dock title (QCommonStyle sizes the title text around the
  buttons), so each dock cost ≈ 0.25 ms a paint, most of it in
  ``inflate``; the window shows five docks and ``grab()`` paints them all.
  Those two icons come from Fusion's own resources and depend on nothing
  else, so the first ones Fusion gives are kept; the pixels are the same.
- **Frames, line edits and the tab page** (:class:`KeptFrameStyle`, set
  on the widgets that draw them by :func:`keep_frames`) are pasted from
  pictures made once per look; :mod:`attnviz.gui.kept_frames` says why and
  how exact that is. A Python override of ``drawPrimitive`` costs every
  element a widget draws ≈ 15 µs in PySide's dispatch, ≈ 1 ms a window, as
  much as the pictures save; so only these few widgets get it and the rest
  keep the application's style. Item views are left out: a table asks its
  own style to draw every cell's row panel.

Every other call goes to Fusion unchanged.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from attnviz.gui.kept_frames import KeptPictures, option_key

# Fusion reads these from its own image files, whatever the widget, option or theme.
KEPT_ICONS = (QStyle.StandardPixmap.SP_TitleBarCloseButton, QStyle.StandardPixmap.SP_TitleBarNormalButton)
# Drawn from their option alone, and slow to draw (see kept_frames).
KEPT_PRIMITIVES = frozenset({
    QStyle.PrimitiveElement.PE_Frame,
    QStyle.PrimitiveElement.PE_FrameLineEdit,
    QStyle.PrimitiveElement.PE_PanelLineEdit,
    QStyle.PrimitiveElement.PE_FrameTabWidget,
})


class KeptIconStyle(QProxyStyle):
    """Fusion, but the dock title icons are made once."""

    def __init__(self) -> None:
        super().__init__("fusion")
        self._icons: dict[QStyle.StandardPixmap, QIcon] = {}

    def standardIcon(self, standardIcon: QStyle.StandardPixmap, option: QStyleOption | None = None,
                     widget: QWidget | None = None) -> QIcon:
        if standardIcon not in KEPT_ICONS:
            return super().standardIcon(standardIcon, option, widget)
        icon = self._icons.get(standardIcon)
        if icon is None:
            icon = self._icons[standardIcon] = super().standardIcon(standardIcon, option, widget)
        return icon


class KeptFrameStyle(KeptIconStyle):
    """KeptIconStyle, with Fusion's frames, line edits and tab pages pasted from pictures."""

    keep_pictures = True  # off: every element is drawn by Fusion (for tests)

    def __init__(self) -> None:
        super().__init__()
        self.pictures = KeptPictures()

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,
                      widget: QWidget | None = None) -> None:
        if element not in KEPT_PRIMITIVES or not self.keep_pictures:
            QProxyStyle.drawPrimitive(self, element, option, painter, widget)
            return
        self.pictures.draw((element.value, *option_key(option)), option, painter, widget,
                           lambda p: QProxyStyle.drawPrimitive(self, element, option, p, widget))


def use_kept_icons(app: QApplication) -> None:
    """Put the proxy in front of Fusion; another style (a desktop's own, or one a user chose) is left alone."""
    style = app.style()
    if not isinstance(style, KeptIconStyle) and style.name().lower() == "fusion":
        app.setStyle(KeptIconStyle())


def kept_frame_style() -> KeptFrameStyle | None:
    """The one KeptFrameStyle of the application (owned by it), or None if the application does not run Fusion."""
    app = QApplication.instance()
    if app is None or not isinstance(app.style(), KeptIconStyle):
        return None
    style = app.findChild(KeptFrameStyle)
    if style is None:
        style = KeptFrameStyle()
        style.setParent(app)  # outlives every widget that paints with it
    return style


def keep_frames(*widgets: QWidget) -> None:
    """Let ``widgets`` paste their frames (their children keep their own style)."""
    style = kept_frame_style()
    if style is None:
        return
    for widget in widgets:
        widget.setStyle(style)
