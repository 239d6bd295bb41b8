"""The Fusion proxy that makes the dock title icons once (attnviz/gui/style.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStyle, QStyleFactory, QStyleOption, QWidget

from attnviz.gui.app import application
from attnviz.gui.style import KEPT_ICONS, KeptIconStyle, use_kept_icons


def pixels(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine()).copy()


def test_the_app_paints_with_the_proxy(qapp):
    qapp.setStyle(QStyleFactory.create("fusion"))  # as a new QApplication starts (the test session has the proxy)
    try:
        assert isinstance(application().style(), KeptIconStyle)
    finally:
        use_kept_icons(qapp)


@pytest.mark.parametrize("which", KEPT_ICONS)
def test_dock_title_icons_are_made_once(which):
    style = KeptIconStyle()
    first = style.standardIcon(which)
    assert not first.isNull() and first.availableSizes()
    assert style.standardIcon(which).cacheKey() == first.cacheKey()


OTHER_ICONS = (QStyle.StandardPixmap.SP_ArrowBack, QStyle.StandardPixmap.SP_DialogOkButton)


@pytest.mark.parametrize("which", [*KEPT_ICONS, *OTHER_ICONS])
def test_icons_are_fusions_own(which):
    ours, theirs = KeptIconStyle().standardIcon(which), QStyleFactory.create("fusion").standardIcon(which)
    assert ours.availableSizes() == theirs.availableSizes()
    assert ours.pixmap(16).toImage() == theirs.pixmap(16).toImage()


def test_icons_that_depend_on_the_option_are_not_kept():
    """The "back" arrow points right in a right-to-left layout: only the title icons may be kept."""
    style, fusion = KeptIconStyle(), QStyleFactory.create("fusion")
    back = QStyle.StandardPixmap.SP_ArrowBack
    for direction in (Qt.LayoutDirection.LeftToRight, Qt.LayoutDirection.RightToLeft):
        option = QStyleOption()
        option.direction = direction
        theirs = fusion.standardIcon(back, option).pixmap(16).toImage()
        assert style.standardIcon(back, option).pixmap(16).toImage() == theirs
    ltr, rtl = QStyleOption(), QStyleOption()
    rtl.direction = Qt.LayoutDirection.RightToLeft
    assert fusion.standardIcon(back, ltr).pixmap(16).toImage() != fusion.standardIcon(back, rtl).pixmap(16).toImage()


def test_docks_look_the_same_as_under_fusion(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("centre"))
    for title, area in (("scores · head 1", Qt.DockWidgetArea.RightDockWidgetArea),
                        ("calculation", Qt.DockWidgetArea.BottomDockWidgetArea)):
        dock = QDockWidget(title)
        dock.setWidget(QLabel(title))
        window.addDockWidget(area, dock)
    window.resize(500, 360)
    window.show()
    qtbot.waitExposed(window)
    assert isinstance(window.style(), KeptIconStyle)
    ours = pixels(window)
    fusion = QStyleFactory.create("fusion")
    for widget in (window, *window.findChildren(QWidget)):
        widget.setStyle(fusion)
    assert not isinstance(window.findChildren(QDockWidget)[0].style(), KeptIconStyle)
    np.testing.assert_array_equal(pixels(window), ours)


def test_another_style_is_left_alone(qapp):
    qapp.setStyle("windows")
    try:
        use_kept_icons(qapp)
        assert qapp.style().name().lower() == "windows"
    finally:
        qapp.setStyle(KeptIconStyle())
    use_kept_icons(qapp)  # again: no second proxy around the first
    assert isinstance(qapp.style(), KeptIconStyle) and qapp.style().baseStyle().name().lower() == "fusion"
