"""Fusion's frames, line edits and tab pages pasted from pictures (attnviz/gui/kept_frames.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPalette, QPicture
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QScrollBar,
    QSlider,
    QStyle,
    QStyleOptionFrame,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from attnviz.gui import kept_frames
from attnviz.gui.kept_frames import KeptPictures, option_key
from attnviz.gui.style import KeptFrameStyle, KeptIconStyle, keep_frames, kept_frame_style

# Where two anti-aliased or translucent strokes of Fusion's meet, pasting may round differently.
TOLERANCE = 2
PANEL = QStyle.PrimitiveElement.PE_PanelLineEdit
PALETTE = QPalette(QColor("#efefef"))


def pixels(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine()).astype(int)


@contextlib.contextmanager
def fusion_drawing() -> Iterator[None]:
    """Within the block the frame style draws every element itself, as Fusion does."""
    KeptFrameStyle.keep_pictures = False
    try:
        yield
    finally:
        KeptFrameStyle.keep_pictures = True


def as_kept_and_as_fusion(widget: QWidget) -> tuple[np.ndarray, np.ndarray]:
    """The widget's pixels from kept pictures (each made by then), and as Fusion paints them."""
    widget.grab()
    widget.grab()  # a picture is made at a look's second paint
    kept = pixels(widget)
    with fusion_drawing():
        return kept, pixels(widget)


def assert_looks_like_fusion(widget: QWidget) -> None:
    kept, fusion = as_kept_and_as_fusion(widget)
    differ = np.abs(kept - fusion)
    assert differ.max() <= TOLERANCE
    # only where strokes meet: a few hundred pixels of a window
    assert (differ.reshape(differ.shape[0], -1, 4).max(axis=2) > 0).mean() < 0.01


@pytest.fixture
def form(qtbot) -> QWidget:
    """A line edit and a text browser on a tab page, and a scroll bar and a slider, which keep Fusion's drawing."""
    w = QWidget()
    qtbot.addWidget(w)
    layout = QVBoxLayout(w)
    tabs = QTabWidget()
    tabs.addTab(QTextBrowser(), "page")
    children = (QLineEdit("words"), tabs, QScrollBar(Qt.Orientation.Horizontal), QSlider(Qt.Orientation.Horizontal))
    for child in children:
        layout.addWidget(child)
    keep_frames(children[0], tabs, tabs.widget(0))
    w.resize(320, 300)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()  # the focus case needs the keyboard focus, which a real window system gives the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    return w


def test_the_window_looks_as_fusion_draws_it(window):
    kept_frame_style().pictures = KeptPictures()
    assert_looks_like_fusion(window)
    assert len(kept_frame_style().pictures) >= 3  # the tab page, the text's frame, the line edits


def test_pictures_are_pasted_into_the_window_s_own_repaints(window):
    pictures = kept_frame_style().pictures = KeptPictures()
    window.repaint()
    window.repaint()
    made = len(pictures)
    assert made >= 3
    window.repaint()
    assert len(pictures) == made  # pasted, not made again


def test_only_the_widgets_that_draw_those_elements_paint_through_python(window):
    """A Python drawPrimitive costs every element a widget draws; the rest of the window keeps the app's style."""
    def qt_class(w: QWidget) -> str:  # the Qt class a widget of attnviz's own is
        return next(c.__name__ for c in type(w).__mro__ if c.__module__.startswith("PySide6"))

    kept = {qt_class(w) for w in window.findChildren(QWidget) if w.style() is kept_frame_style()}
    assert kept == {"QLineEdit", "QTabWidget", "QTextBrowser"}
    # a table asks its own style to draw every cell's row panel
    assert not [v for v in window.findChildren(QAbstractItemView) if v.style() is kept_frame_style()]
    assert isinstance(window.style(), KeptIconStyle) and not isinstance(window.style(), KeptFrameStyle)
    assert window.tabs.tabBar().style() is not kept_frame_style()
    frameless = [e for e in window.findChildren(QLineEdit) if not e.hasFrame()]
    assert frameless  # the spin boxes' own line edits draw no frame to keep
    assert not [e for e in frameless if e.style() is kept_frame_style()]


def test_the_frame_style_is_one_the_application_owns(qapp):
    assert kept_frame_style() is kept_frame_style()
    assert kept_frame_style().parent() is qapp


def test_under_another_application_style_nothing_changes(qapp):
    edit = QLineEdit()
    qapp.setStyle("windows")
    try:
        assert kept_frame_style() is None
        keep_frames(edit)
        assert edit.style() is qapp.style()
    finally:
        qapp.setStyle(KeptIconStyle())


@pytest.mark.parametrize("change", ["focus", "disable", "read-only", "text", "right to left", "resize"])
def test_a_changed_look_is_drawn_as_fusion_draws_it(qtbot, form, change):
    as_kept_and_as_fusion(form)  # every element's picture is kept
    edit = form.findChild(QLineEdit)
    if change == "focus":
        edit.setFocus()
        qtbot.waitUntil(edit.hasFocus)
    elif change == "disable":
        edit.setEnabled(False)
        form.findChild(QTabWidget).setEnabled(False)
    elif change == "read-only":
        edit.setReadOnly(True)
    elif change == "text":
        edit.setText("other words, longer")
    elif change == "right to left":
        form.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    else:
        form.resize(360, 340)
        qtbot.waitUntil(lambda: form.width() == 360)
    assert_looks_like_fusion(form)


def test_with_pictures_off_fusion_draws_every_element(form):
    pictures = kept_frame_style().pictures = KeptPictures()
    with fusion_drawing():
        for _ in range(3):
            form.grab()
    assert len(pictures) == 0
    form.grab()
    form.grab()
    assert len(pictures) >= 3  # the line edit, the tab page, the text browser's frame


def test_a_picture_is_made_at_a_look_s_second_paint_and_then_pasted():
    pictures, option = KeptPictures(), frame_option(QRect(0, 0, 40, 20))
    drawn = []

    def fusion(painter: QPainter) -> None:
        drawn.append(painter.device())
        painter.fillRect(option.rect, QColor("teal"))

    image = QImage(60, 40, QImage.Format.Format_ARGB32_Premultiplied)
    for expected_pictures, expected_drawn in ((0, 1), (1, 2), (1, 2), (1, 2)):
        with painting(image) as painter:
            pictures.draw(("frame",), option, painter, None, fusion)
        assert (len(pictures), len(drawn)) == (expected_pictures, expected_drawn)
    assert drawn[0] is image and drawn[1] is not image  # the second time into the picture, then pasted
    assert image.pixelColor(5, 5) == QColor("teal")


def test_pictures_stay_within_their_budget_and_the_least_recently_used_go_first():
    one = 4 * 40 * 20
    pictures = KeptPictures(budget_bytes=3 * one)
    image = QImage(60, 40, QImage.Format.Format_ARGB32_Premultiplied)

    def paint(name: str) -> None:
        for _ in range(2):
            with painting(image) as painter:
                pictures.draw((name,), frame_option(QRect(0, 0, 40, 20)), painter, None, lambda p: None)

    for name in "abc":
        paint(name)
    paint("a")  # used again: "b" is now the oldest
    paint("d")
    assert len(pictures) == 3 and pictures.bytes <= 3 * one
    drawn = []
    with painting(image) as painter:
        for name in "abcd":
            pictures.draw((name,), frame_option(QRect(0, 0, 40, 20)), painter, None, lambda p, n=name: drawn.append(n))
    assert drawn == ["b"]


def test_a_picture_larger_than_the_budget_is_never_made():
    pictures, devices = KeptPictures(budget_bytes=100), []
    image = QImage(80, 60, QImage.Format.Format_ARGB32_Premultiplied)
    for _ in range(3):
        with painting(image) as painter:
            pictures.draw(("frame",), frame_option(QRect(0, 0, 40, 20)), painter, None,
                          lambda p: devices.append(p.device()))
    assert devices == [image] * 3 and len(pictures) == 0


def test_making_room_lets_as_many_old_pictures_go_as_it_takes():
    pictures = KeptPictures(budget_bytes=3 * 4 * 40 * 20)
    for name in "abc":
        keep(pictures, name, QRect(0, 0, 40, 20))
    keep(pictures, "wide", QRect(0, 0, 80, 20))  # twice as large: "a" and "b" go
    assert len(pictures) == 2 and pictures.bytes == 3 * 4 * 40 * 20
    assert fusion_draws(pictures, "c", QRect(0, 0, 40, 20)) == 0
    assert fusion_draws(pictures, "a", QRect(0, 0, 40, 20)) == 1


def test_pictures_are_capped_in_number_too(monkeypatch):
    monkeypatch.setattr(kept_frames, "_ENTRIES_MAX", 3)
    pictures = KeptPictures()
    for name in "abcde":
        keep(pictures, name, QRect(0, 0, 4, 4))
    assert len(pictures) == 3
    assert [fusion_draws(pictures, n, QRect(0, 0, 4, 4)) for n in "abcde"] == [1, 1, 0, 0, 0]


def test_the_looks_seen_once_are_forgotten_past_a_limit(monkeypatch):
    monkeypatch.setattr(kept_frames, "_SEEN_MAX", 2)
    pictures = KeptPictures()
    for name in "abc":  # the third one starts the memory over
        fusion_draws(pictures, name, QRect(0, 0, 4, 4))
    fusion_draws(pictures, "a", QRect(0, 0, 4, 4))  # as if seen for the first time
    assert len(pictures) == 0
    fusion_draws(pictures, "c", QRect(0, 0, 4, 4))  # remembered: its picture is made
    assert len(pictures) == 1


@pytest.mark.parametrize("second_paint", [
    pytest.param(lambda p: p.setRenderHint(QPainter.RenderHint.Antialiasing), id="render hints"),
    pytest.param(None, id="pixel ratio"),
])
def test_a_paint_with_other_render_hints_or_pixel_ratio_gets_its_own_picture(second_paint):
    pictures, option = KeptPictures(), frame_option(QRect(0, 0, 40, 20))
    plain = QImage(80, 60, QImage.Format.Format_ARGB32_Premultiplied)
    other = QImage(160, 120, QImage.Format.Format_ARGB32_Premultiplied)
    other.setDevicePixelRatio(2 if second_paint is None else 1)
    for device, setup in ((plain, lambda p: None), (other, second_paint or (lambda p: None))):
        for _ in range(2):
            with painting(device) as painter:
                setup(painter)
                pictures.draw(("frame",), option, painter, None, lambda p: p.fillRect(option.rect, QColor("teal")))
    assert len(pictures) == 2


@pytest.mark.parametrize("painter_setup", [
    pytest.param(lambda p: p.setOpacity(0.5), id="translucent painter"),
    pytest.param(lambda p: p.scale(2, 2), id="zoom"),
    pytest.param(lambda p: p.translate(0.5, 0), id="half a pixel"),
    pytest.param(lambda p: p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply), id="composition"),
])
def test_other_paints_get_fusion_s_own_drawing(painter_setup: Callable[[QPainter], None]):
    pictures = KeptPictures()
    assert draw_times(pictures, frame_option(QRect(0, 0, 40, 20)), 3, painter_setup) == 3
    assert len(pictures) == 0


def test_a_vector_paint_gets_fusion_s_own_drawing():
    pictures, drawn = KeptPictures(), []
    for _ in range(3):
        picture = QPicture()
        with painting(picture) as painter:
            pictures.draw(("frame",), frame_option(QRect(0, 0, 40, 20)), painter, None, drawn.append)
    assert len(drawn) == 3 and len(pictures) == 0


def test_a_patterned_palette_is_never_kept():
    option = frame_option(QRect(0, 0, 40, 20))
    palette = QPalette(option.palette)
    palette.setBrush(QPalette.ColorRole.Base, QBrush(QColor("navy"), Qt.BrushStyle.Dense4Pattern))
    option.palette = palette
    pictures = KeptPictures()
    assert draw_times(pictures, option, 3) == 3 and len(pictures) == 0


def test_a_picture_at_twice_the_pixel_ratio_matches_fusion():
    style, edit = KeptFrameStyle(), QLineEdit("words")
    edit.resize(120, 26)
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    option.state |= QStyle.StateFlag.State_HasFocus

    def painted(keep: bool) -> np.ndarray:
        image = QImage(280, 80, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(2)
        image.fill(QColor("white"))
        style.keep_pictures = keep
        for _ in range(3):
            with painting(image) as painter:
                painter.translate(7, 5)
                style.drawPrimitive(PANEL, option, painter, edit)
        return np.frombuffer(image.constBits(), np.uint8).astype(int)

    kept = painted(True)
    assert len(style.pictures) == 1
    assert np.abs(kept - painted(False)).max() <= TOLERANCE


def noisy_image(ratio: int, seed: int = 0) -> QImage:
    """An opaque image of random pixels at ``ratio``: what a picture is pasted onto."""
    rng = np.random.default_rng(seed)
    image = QImage(80 * ratio, 50 * ratio, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    bits = np.frombuffer(image.bits(), np.uint32)
    bits[:] = rng.integers(0, 2**24, size=bits.size, dtype=np.uint32) | 0xFF000000
    return image


OUTLINED = QRect(10, 6, 50, 30)


def outline(border: int) -> Callable[[QPainter], None]:
    """Draws a translucent outline ``border`` logical pixels wide inside OUTLINED, with a clear middle."""
    def fusion(painter: QPainter) -> None:
        rect = OUTLINED
        inner = rect.adjusted(border, border, -border, -border)
        colour = QColor(200, 30, 90, 160)
        if inner.isEmpty():
            painter.fillRect(rect, colour)
            return
        for band in (QRect(rect.left(), rect.top(), rect.width(), border),
                     QRect(rect.left(), inner.bottom() + 1, rect.width(), border),
                     QRect(rect.left(), inner.top(), border, inner.height()),
                     QRect(inner.right() + 1, inner.top(), border, inner.height())):
            painter.fillRect(band, colour)
    return fusion


@pytest.mark.parametrize("ratio", [1, 2])
@pytest.mark.parametrize(("border", "parts"), [(1, 4), (3, 4), (8, 4), (9, 1), (25, 1)])
def test_a_picture_with_a_clear_middle_is_pasted_as_the_strips_around_it(ratio, border, parts):
    pictures, option = KeptPictures(), frame_option(OUTLINED)
    for _ in range(2):  # drawn; made into a picture
        with painting(noisy_image(ratio)) as painter:
            pictures.draw(("frame",), option, painter, None, outline(border))
    pasted = noisy_image(ratio)
    with painting(pasted) as painter:
        pictures.draw(("frame",), option, painter, None, lambda p: pytest.fail("drawn, not pasted"))
    picture = next(iter(pictures._pictures.values()))
    assert len(picture.parts) == parts  # 9: wider than looked for; 25: nothing is clear
    # the strips leave exactly what pasting the whole picture leaves, and that is the outline drawn afresh
    reference = noisy_image(ratio)
    with painting(reference) as painter:
        painter.drawImage(option.rect.topLeft(), picture.image)
    fresh = noisy_image(ratio)
    with painting(fresh) as painter:
        outline(border)(painter)
    np.testing.assert_array_equal(np.frombuffer(pasted.constBits(), np.uint32),
                                  np.frombuffer(reference.constBits(), np.uint32))
    differ = np.abs(np.frombuffer(pasted.constBits(), np.uint8).astype(int)
                    - np.frombuffer(fresh.constBits(), np.uint8).astype(int))
    assert differ.max() <= TOLERANCE


def test_fusion_s_frame_inside_a_line_edit_s_panel_is_part_of_the_panel_s_picture():
    style, edit = KeptFrameStyle(), QLineEdit("words")
    edit.resize(120, 26)
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    assert option.lineWidth > 0  # Fusion draws PE_FrameLineEdit inside the panel
    image = QImage(140, 40, QImage.Format.Format_ARGB32_Premultiplied)
    for _ in range(3):
        with painting(image) as painter:
            style.drawPrimitive(PANEL, option, painter, edit)
    assert len(style.pictures) == 1


MUTATIONS: dict[str, Callable] = {
    "size": lambda o: setattr(o, "rect", QRect(0, 0, 41, 20)),
    "state": lambda o: setattr(o, "state", o.state | QStyle.StateFlag.State_HasFocus),
    "direction": lambda o: setattr(o, "direction", Qt.LayoutDirection.RightToLeft),
    "palette": lambda o: o.palette.setColor(QPalette.ColorRole.Base, QColor("pink")),
    "line width": lambda o: setattr(o, "lineWidth", o.lineWidth + 1),
    "frame shape": lambda o: setattr(o, "frameShape", o.frameShape.Box),
    "colour group": lambda o: o.palette.setCurrentColorGroup(QPalette.ColorGroup.Inactive),
    "features": lambda o: setattr(o, "features", QStyleOptionFrame.FrameFeature.Rounded),
}


@pytest.mark.parametrize("mutate", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_frame_s_key_tells_its_looks_apart(mutate):
    option = frame_option(QRect(0, 0, 40, 20))
    changed = QStyleOptionFrame(option)
    changed.palette = QPalette(option.palette)
    assert option_key(changed) == option_key(option)
    mutate(changed)
    assert option_key(changed) != option_key(option)


def test_a_frame_s_key_does_not_depend_on_where_it_is():
    option, moved = frame_option(QRect(0, 0, 40, 20)), frame_option(QRect(300, 70, 40, 20))
    assert option_key(moved) == option_key(option)


# ---- helpers ------------------------------------------------------------------------------------

def frame_option(rect: QRect) -> QStyleOptionFrame:
    option = QStyleOptionFrame()
    option.rect = rect
    option.lineWidth = 1
    option.state = QStyle.StateFlag.State_Enabled
    option.palette = PALETTE
    return option


@contextlib.contextmanager
def painting(device) -> Iterator[QPainter]:
    painter = QPainter(device)
    try:
        yield painter
    finally:
        painter.end()


def keep(pictures: KeptPictures, name: str, rect: QRect) -> None:
    """Paint look ``name`` twice, so that its picture is made."""
    for _ in range(2):
        fusion_draws(pictures, name, rect)


def fusion_draws(pictures: KeptPictures, name: str, rect: QRect) -> int:
    """Paint look ``name`` once: how often Fusion drew (0: its picture was pasted)."""
    return draw_times(pictures, frame_option(rect), 1, key=(name,))


def draw_times(pictures: KeptPictures, option: QStyleOptionFrame, times: int,
               setup: Callable[[QPainter], None] = lambda p: None, key: tuple = ("frame",)) -> int:
    """Draw ``option`` ``times`` times into an image through ``pictures``: how often Fusion drew."""
    drawn = []
    image = QImage(100, 60, QImage.Format.Format_ARGB32_Premultiplied)
    for _ in range(times):
        with painting(image) as painter:
            setup(painter)
            pictures.draw(key, option, painter, None, drawn.append)
    return len(drawn)

