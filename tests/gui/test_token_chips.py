"""The token chips keep a picture of themselves: it must always be what a fresh paint gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPalette

from attnviz.gui.token_chips import Chip, TokenChips, more_chip
from tests.gui.test_plot_pixels import rgb

SENTENCE = [Chip("5 tokens:", -1), *(Chip(w, i, i == 1) for i, w in enumerate(["The", "dog*", "ate", "it", "."]))]
OTHER = [Chip("5 tokens:", -1), *(Chip(w, i, i == 3) for i, w in enumerate(["The", "cat", "ate", "it", "!"]))]


def shown(qtbot, chips, width=400, palette=None) -> TokenChips:
    widget = TokenChips()
    if palette is not None:
        widget.setPalette(palette)
    widget.resize(width, 40)
    widget.set_chips(chips)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget



def test_new_chips_a_new_width_and_a_new_palette_look_like_a_fresh_paint(qtbot):
    widget = shown(qtbot, SENTENCE)
    before = rgb(widget.grab())
    widget.set_chips(OTHER)
    after = rgb(widget.grab())
    assert (after != before).any()
    np.testing.assert_array_equal(after, rgb(shown(qtbot, OTHER).grab()))
    widget.resize(90, 80)  # "5 tokens:" and "The" on the first line, the rest wrap
    qtbot.waitUntil(lambda: widget.width() == 90)
    assert widget.chip_rect(2).top() > widget.chip_rect(0).top()
    np.testing.assert_array_equal(rgb(widget.grab()), rgb(fresh(qtbot, OTHER, widget.size()).grab()))
    palette = QPalette(widget.palette())
    palette.setColor(QPalette.ColorRole.Window, QColor("#fff8e0"))
    widget.setPalette(palette)
    again = fresh(qtbot, OTHER, widget.size())
    again.setPalette(palette)
    np.testing.assert_array_equal(rgb(widget.grab()), rgb(again.grab()))


def test_the_same_chips_again_change_nothing(qtbot):
    widget = shown(qtbot, SENTENCE)
    widget.set_chips(list(SENTENCE))
    assert widget.chips() == SENTENCE
    assert widget.text() == "5 tokens: The  ·  dog*  ·  ate  ·  it  ·  ."


def test_the_window_is_asked_to_lay_out_again_only_when_the_number_of_lines_changes(qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from tests.gui.event_log import EventLog

    parent = QWidget()
    qtbot.addWidget(parent)
    chips = TokenChips()
    QVBoxLayout(parent).addWidget(chips)
    parent.resize(400, 200)
    chips.set_chips(SENTENCE)
    parent.show()
    qtbot.waitExposed(parent)
    qtbot.wait(20)  # the first layout has landed
    counter = EventLog(QEvent.Type.LayoutRequest)
    requests = counter.objects
    parent.installEventFilter(counter)
    chips.set_chips(OTHER)  # one line still
    qtbot.wait(20)
    assert requests == []
    chips.set_chips([*OTHER, *(Chip(f"word{i}", 5 + i) for i in range(40))])  # several lines
    qtbot.waitUntil(lambda: len(requests) > 0)
    qtbot.waitUntil(lambda: chips.height() >= chips.heightForWidth(chips.width()))


WORDS = ["a", "go", "pizza", "it", "dog*", "supercalifragili…", ",", "日本", "ate"]


def as_chips(words: list[str], selected: int, more: bool) -> list[Chip]:
    chips = [Chip(f"{len(words)} tokens:", -1)] if words else [Chip("No tokens yet.", -1)]
    chips += [Chip(w, i, i == selected) for i, w in enumerate(words)]
    # (as the sentence box marks it: selected when the selected token is one of those not shown)
    return chips + ([more_chip(3, selected >= len(words))] if more else [])


@pytest.mark.parametrize("focused", [False, True], ids=["unfocused", "focused"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_chips_redrawn_from_the_first_change_look_like_a_fresh_paint(qtbot, data, focused):
    # typing changes one word, deleting one moves the rest, a longer word rewraps the lines:
    # the kept picture, redrawn from the first chip that changed, must equal a fresh paint;
    # with the focus, the frame moves with the selection and is drawn once
    from PySide6.QtCore import QSize

    words = data.draw(st.lists(st.sampled_from(WORDS), max_size=20))
    selected, more = data.draw(st.integers(-1, 20)), data.draw(st.booleans())
    painted = []  # (chips, pixels) with the focus
    if focused:
        widget = tabbed_into(qtbot, as_chips(words, selected, more), QSize(160, 140))
    else:
        widget = shown(qtbot, as_chips(words, selected, more), width=160)
        widget.resize(160, 140)
    for _ in range(data.draw(st.integers(1, 5))):
        op = data.draw(st.sampled_from(["retype", "retype", "select", "delete", "insert", "more"]))
        k = data.draw(st.integers(0, max(len(words) - 1, 0)))
        if op == "retype" and words:
            words[k] = data.draw(st.sampled_from(WORDS))
        elif op == "select":
            selected = data.draw(st.integers(-1, 20))
        elif op == "delete" and words:
            del words[k]
        elif op == "insert":
            words.insert(k, data.draw(st.sampled_from(WORDS)))
        elif op == "more":
            more = not more
        chips = as_chips(words, selected, more)
        widget.set_chips(chips)
        if focused:  # compared at the end: a fresh widget now would take the focus, and the frame with it
            painted.append((chips, rgb(widget.grab())))
            continue
        np.testing.assert_array_equal(rgb(widget.grab()), rgb(fresh(qtbot, chips, widget.size()).grab()))
    assert widget.hasFocus() == focused
    for chips, pixels in painted:
        np.testing.assert_array_equal(pixels, rgb(tabbed_into(qtbot, chips, widget.size()).grab()))


def fresh(qtbot, chips, size) -> TokenChips:
    widget = TokenChips()
    widget.resize(size)
    widget.set_chips(chips)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_moving_the_selection_off_a_chip_clears_its_underline_to_the_last_pixel(qtbot):
    # found by the test above: the bold chip's underline began inside a pixel that a
    # clearing rectangle starting at the same fractional x left untouched
    words = ["a"] * 10
    widget = shown(qtbot, as_chips(words, 0, False), width=160)
    widget.resize(160, 140)
    rgb(widget.grab())
    chips = as_chips(words, 1, False)
    widget.set_chips(chips)
    np.testing.assert_array_equal(rgb(widget.grab()), rgb(fresh(qtbot, chips, widget.size()).grab()))


@pytest.mark.parametrize("scale", ["1.25", "1.5", "2"])
def test_the_kept_picture_is_right_at_fractional_screen_scales_too(scale):
    # at 125 % or 150 % a logical pixel is not a device pixel; Qt takes the scale at start-up
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_SCALE_FACTOR": scale, "QT_QPA_PLATFORM": "offscreen"}
    tests = "redrawn_from_the_first_change or underline or fresh_paint"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", tests, __file__],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


def test_chips_wrap_again_when_a_resize_needs_another_line(qtbot):
    # Qt's layout remembers heights for widths it asked about earlier: new chips at one width
    # must not leave a stale, too small height for another width
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    layout = QVBoxLayout(parent)
    chips, below = TokenChips(), QLabel("below")
    for widget in (chips, below):
        layout.addWidget(widget)
    layout.addStretch(1)
    chips.set_chips(as_chips(["aa", "bb"], -1, False))  # one line at either width
    parent.resize(400, 300)
    parent.show()
    qtbot.waitExposed(parent)
    widths = {}
    for width in (300, 400):  # the layout asks for heights at both widths
        parent.resize(width, 300)
        qtbot.wait(30)
        widths[width] = chips.width()
    longer = next(c for n in range(2, 60) if _lines(chips, c := as_chips(["word"] * n, -1, False), widths[300]) == 2
                  and _lines(chips, c, widths[400]) == 1)
    chips.set_chips(longer)  # still one line at this width
    qtbot.wait(30)
    parent.resize(300, 300)
    qtbot.waitUntil(lambda: chips.height() >= chips.heightForWidth(chips.width()) > chips.chip_rect(0).height())
    assert below.y() >= chips.geometry().bottom()


def _lines(chips: TokenChips, items: list[Chip], width: int) -> int:
    return chips._wrap(items, width)[1]


def test_a_click_is_a_press_and_a_release_on_the_same_chip(qtbot):
    from PySide6.QtCore import Qt

    widget = shown(qtbot, SENTENCE)
    clicked = []
    widget.tokenClicked.connect(clicked.append)
    at = [widget.chip_rect(t).center().toPoint() for t in range(3)]
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=at[0])
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=at[2])  # dragged off: no click
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=at[1])  # a release alone: no click
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=at[2])
    assert clicked == [2]


def test_screen_readers_hear_what_the_chips_say(qtbot):
    widget = shown(qtbot, SENTENCE)
    assert widget.accessibleName() == widget.text() == "5 tokens: The  ·  dog*  ·  ate  ·  it  ·  ."
    widget.set_chips(OTHER)
    assert widget.accessibleName() == widget.text()



def tabbed_into(qtbot, chips, size=None, palette=None) -> TokenChips:
    """Chips below a line edit, given the focus with Tab, as a user gives it."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QLineEdit, QWidget

    size = size or QSize(380, 40)
    box = QWidget()
    QLineEdit(box).setGeometry(0, 0, 100, 24)
    widget = TokenChips(box)  # after the line edit: next in the Tab order
    if palette is not None:
        widget.setPalette(palette)
    widget.setGeometry(0, 30, size.width(), size.height())
    widget.set_chips(chips)
    qtbot.addWidget(box)
    box.resize(max(size.width(), 100), 30 + size.height())
    box.show()
    qtbot.waitExposed(box)
    widget.box = box  # (the chips' parent lives as long as they are used)
    return tab_in(qtbot, widget)


def tab_in(qtbot, widget: TokenChips) -> TokenChips:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    edit = widget.box.findChild(QLineEdit)
    widget.box.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    assert widget.hasFocus()
    return widget


def test_keys_step_through_the_tokens_while_the_chips_have_the_focus(qtbot):
    from PySide6.QtCore import Qt

    widget = tabbed_into(qtbot, SENTENCE)
    assert widget.focusPolicy() == Qt.FocusPolicy.TabFocus  # Tab reaches them; a click leaves the focus where it was
    steps = []
    widget.tokenStepped.connect(steps.append)
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_End, Qt.Key.Key_Home):
        qtbot.keyClick(widget, key)
    qtbot.keyClick(widget, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)  # someone else's shortcut
    qtbot.keyClick(widget, Qt.Key.Key_A)
    far = 1 << 30
    assert steps == [1, 1, -1, -1, far, -far]


def test_the_focus_frame_marks_the_selected_chip_and_goes_with_the_focus(qtbot):
    widget = tabbed_into(qtbot, SENTENCE)
    framed = rgb(widget.grab())
    widget.clearFocus()
    qtbot.waitUntil(lambda: not widget.hasFocus())
    unfocused = rgb(widget.grab())
    changed = np.argwhere((framed != unfocused).any(axis=2))  # device pixels
    around = widget.chip_rect(1).adjusted(-3, -1, 3, 1)  # "dog*", the selected chip
    ratio = widget.grab().devicePixelRatio()
    assert len(changed) > 10
    assert all(around.contains((x + 0.5) / ratio, (y + 0.5) / ratio) for y, x in changed)
    np.testing.assert_array_equal(unfocused, rgb(shown(qtbot, SENTENCE, width=widget.width()).grab()))
    tab_in(qtbot, widget)
    widget.set_chips(OTHER)  # another token selected: the frame follows it
    moved = rgb(widget.grab())
    np.testing.assert_array_equal(moved, rgb(tabbed_into(qtbot, OTHER).grab()))  # what a fresh paint gives
    assert not np.array_equal(moved[:, :, :], framed)


def test_the_focus_frame_is_drawn_once_and_moves_off_a_chip_that_did_not_change(qtbot):
    """A translucent highlight shows a frame drawn twice; with none selected the frame is on the first token's chip,
    which does not change when a later one is selected."""
    from PySide6.QtGui import QPalette

    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor(0, 90, 200, 110))
    words = ["The", "dog*", "ate", "it", ".", "pizza", "next", "to", "the", "baby"]
    widget = tabbed_into(qtbot, as_chips(words, -1, False), palette=palette)
    painted = []
    for selected, last in ((-1, "cat"), (-1, "baby"), (6, "baby"), (6, "cat"), (6, "baby"), (2, "baby")):
        chips = as_chips([*words[:-1], last], selected, False)
        widget.set_chips(chips)
        painted.append((chips, rgb(widget.grab())))
    assert widget.hasFocus()  # all along: the picture was redrawn from the chip that changed, not afresh
    for chips, pixels in painted:
        np.testing.assert_array_equal(pixels, rgb(tabbed_into(qtbot, chips, widget.size(), palette).grab()))


def frame_columns(widget: TokenChips, token: int) -> set[int]:
    """The columns (logical, as the chips' rectangles give them) in the highlight colour along the middle row
    of ``token``'s chip."""
    from PySide6.QtGui import QPalette

    highlight = widget.palette().color(QPalette.ColorRole.Highlight)
    pixels = widget.grab()
    ratio = pixels.devicePixelRatio()
    row = rgb(pixels)[int(widget.chip_rect(token).center().y() * ratio)]
    device = np.nonzero((row == [highlight.red(), highlight.green(), highlight.blue()]).all(axis=-1))[0]
    return {int(c // ratio) for c in device.tolist()}


def test_the_focus_frame_is_closed_at_either_edge_of_the_widget(qtbot):
    from PySide6.QtCore import QSize

    words = ["pizza"] * 12
    widget = tabbed_into(qtbot, as_chips(words, 0, False), QSize(160, 140))
    starts_a_line = next(t for t in range(12) if widget.chip_rect(t).left() == 0 and widget.chip_rect(t).top() > 0)
    widget.set_chips(as_chips(words, starts_a_line, False))
    assert {0, int(widget.chip_rect(starts_a_line).right()) + 1} <= frame_columns(widget, starts_a_line)
    # a selected chip ending in the widget's last column: the frame's right edge is that column, not past it
    found = None
    for width in range(90, 200):
        widget.resize(width, 140)
        for token in range(12):
            widget.set_chips(as_chips(words, token, False))
            if width - 1 <= widget.chip_rect(token).right() < width:
                found = (width, token)
                break
        if found:
            break
    assert found is not None
    width, token = found
    assert width - 1 in frame_columns(widget, token)
    empty = tabbed_into(qtbot, [Chip("No tokens yet.", -1)], QSize(200, 20))  # nothing to select: the text is framed
    assert 0 in frame_columns(empty, -1)


def test_a_redraw_from_the_next_chip_leaves_the_frame_whole(qtbot):
    """In a small font the space after a chip is narrower than what the frame takes beyond it."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSize(5)
    words = ["a", "go", "it"]
    widget = tabbed_into(qtbot, as_chips(words, 2, False), QSize(200, 40))
    widget.setFont(font)
    painted = []
    for more in (True, False, True):  # the '… and 3 more' chip comes and goes right after the framed one
        chips = as_chips(words, 2, more)
        widget.set_chips(chips)
        painted.append((chips, rgb(widget.grab())))
    assert widget.hasFocus()
    for chips, pixels in painted:
        again = tabbed_into(qtbot, chips, widget.size())
        again.setFont(font)
        np.testing.assert_array_equal(pixels, rgb(again.grab()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=40), selected=st.integers(-1, 45),
       more=st.booleans(), width=st.integers(60, 320), lines=st.integers(1, 6))
def test_chips_that_do_not_fit_the_height_give_way_to_one_for_the_rest(qtbot, words, selected, more, width, lines):
    from PySide6.QtCore import QSize

    given_chips = as_chips(words, selected, more)
    widget = fresh(qtbot, given_chips, QSize(width, 10))
    widget.resize(width, lines * widget.minimumSizeHint().height())  # (the minimum: one line)
    qtbot.waitUntil(lambda: widget.height() > 10)
    shown_chips = widget.shown_chips()
    total = len(words) + (3 if more else 0)
    if widget.height() >= widget.heightForWidth(width):
        assert shown_chips == given_chips
    else:
        *kept, rest = shown_chips
        assert kept == given_chips[:len(kept)]  # (the count too gives way, if even it leaves no room)
        tokens_kept = [c.token for c in kept if c.token >= 0]
        assert rest.token == -1 and rest.text == f"… and {rest.hidden} more"
        assert len(tokens_kept) + rest.hidden == total  # every token either has a chip or is counted
        a_token = 0 <= selected < len(words) or (more and selected >= len(words))  # (past them: one of the 3 more)
        assert rest.selected == (a_token and selected not in tokens_kept)
        # as many as fit: one chip more, with a chip for the rest after it, would need another line
        one_more = given_chips[len(kept)]
        again = [*kept, one_more, more_chip(rest.hidden - (one_more.token >= 0) - one_more.hidden,
                                            rest.selected and not one_more.selected)]
        if len(kept) + 1 < len(given_chips):
            assert _lines(widget, again, width) > widget.height() // widget.minimumSizeHint().height()
    line = widget.minimumSizeHint().height()
    for chip, place in zip(shown_chips, widget._places, strict=True):
        assert place.y() + line <= widget.height(), chip  # every line shown whole on the widget
        if chip.token >= 0:  # (a word wider than the widget is cut at its right edge, as ever)
            seen = QRectF(widget.rect()).intersected(widget.chip_rect(chip.token))
            assert seen.height() == widget.chip_rect(chip.token).height() and seen.width() > 0, chip
            assert widget.token_at(seen.center()) == chip.token  # and it can be clicked
    np.testing.assert_array_equal(rgb(widget.grab()), rgb(fresh(qtbot, given_chips, widget.size()).grab()))
