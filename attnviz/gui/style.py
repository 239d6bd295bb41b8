"""The application's widget style: Fusion, with the dock title icons made once.

Qt's Fusion style builds the icons of a dock's close and float buttons anew
each time it is asked for them: six PNG files each, read, decoded and looked
up among the icon-engine plugins. It is asked on every paint of every dock
title (QCommonStyle sizes the title text around the buttons), so each dock
cost ≈ 0.25 ms a paint, most of it in ``inflate``; the window shows five
docks and ``grab()`` paints them all. Those two icons come from Fusion's own
resources and depend on nothing else, so this proxy keeps the first ones it
is given. Every other call goes to Fusion unchanged; the pixels are the same.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

# Fusion reads these from its own image files, whatever the widget, option or theme.
KEPT_ICONS = (QStyle.StandardPixmap.SP_TitleBarCloseButton, QStyle.StandardPixmap.SP_TitleBarNormalButton)


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


def use_kept_icons(app: QApplication) -> None:
    """Put the proxy in front of Fusion; another style (a desktop's own, or one a user chose) is left alone."""
    style = app.style()
    if not isinstance(style, KeptIconStyle) and style.name().lower() == "fusion":
        app.setStyle(KeptIconStyle())
