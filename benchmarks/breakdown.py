"""Where edit → pixels goes, part by part, for the cases of bench.py.

    python benchmarks/breakdown.py [CASE ...]     (default: lets-go pizza 64 256 512)

Three splits, medians in ms:

- **idle grab**: the settled window grabbed whole; again with painting
  (``setUpdatesEnabled``) turned off for the pyqtgraph plots' viewports; and
  again with the calculation text off too. What is left then is Qt painting
  its own widgets (dock frames, tab bars, scroll bars, tables, spin boxes,
  menu and status bar).
- **one edit**, the same W_q edits as bench.py, each step run by hand:
  ``setData``; the engine's forward pass (with the previous result to reuse,
  as the model runs it); the model's recompute plus the panels' redraws
  (``flush``) minus that pass; the calculation page's blocks on screen
  (``update_on_screen``, as the window runs it after an edit); the paint of
  what changed (processing events until they settle); the final ``grab()``.
  The rest of the page, which the panel brings up to date once edits
  pause, is timed apart (``regenerate`` right after) and left out of the sum.
- **one keystroke**, as bench.py types (a letter, then Backspace, …): the
  key press; the recompute plus the panels' redraws (``flush``); the
  calculation page on screen; painting what changed; the final ``grab()``;
  and apart, the rest of the page.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (bench puts the repository first on sys.path)

GRABS = 25
REST = "the rest of the page, after a pause"  # timed, but not part of edit → pixels
EDITS, WARMUP = 40, 5


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def idle_grab_parts(h: bench.Harness) -> dict[str, float]:
    from PySide6.QtWidgets import QGraphicsView, QTextBrowser

    w = h.window
    h.settle()
    plots = [v.viewport() for v in w.findChildren(QGraphicsView) if v.isVisible()]
    texts = [t.viewport() for t in w.findChildren(QTextBrowser) if t.isVisible()]
    def grab_ms() -> float:
        return median_ms(bench.time_idle_grab(h, GRABS))

    out = {"whole window": grab_ms()}
    for viewport in plots:
        viewport.setUpdatesEnabled(False)
    out["without the plots"] = grab_ms()
    for viewport in texts:
        viewport.setUpdatesEnabled(False)
    out["Qt's widgets only"] = grab_ms()
    for viewport in plots + texts:
        viewport.setUpdatesEnabled(True)
    h.settle()
    return out


def timed_steps(steps: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Run the steps in order EDITS + WARMUP times; the seconds each took after the warm-up."""
    parts: dict[str, list[float]] = {name: [] for name in steps}
    for k in range(EDITS + WARMUP):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            if k >= WARMUP:
                parts[name].append(time.perf_counter() - t0)
    return parts


def edit_parts(h: bench.Harness) -> dict[str, float]:
    from attnviz.engine import forward

    model, calc = h.model, h.window.calculation
    cells = iter(bench.edit_cells(h.table.rowCount(), h.table.columnCount(), EDITS + WARMUP))
    previous = []

    def edit() -> None:
        previous[:] = [model.result]
        h.edit(*next(cells))

    parts = timed_steps({
        "setData": edit,
        "forward (reusing heads)": lambda: forward(model.document(), reuse=previous[0]),
        "panel redraws": model.flush,  # minus that pass, below
        "calculation page on screen": calc.update_on_screen,
        "painting what changed": h.settle,
        "grab": h.window.grab,
        REST: calc.regenerate,
    })
    passes = parts["forward (reusing heads)"]
    parts["panel redraws"] = [a - b for a, b in zip(parts["panel redraws"], passes, strict=True)]
    return {name: median_ms(v) for name, v in parts.items()}


def typing_parts(h: bench.Harness) -> dict[str, float]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    edit, calc = h.window.sentence_edit, h.window.calculation
    edit.setFocus()
    edit.end(False)
    h.settle()
    keys = iter([Qt.Key.Key_X, Qt.Key.Key_Backspace] * (EDITS + WARMUP))
    parts = timed_steps({
        "key": lambda: QTest.keyClick(edit, next(keys)),
        "flush": h.model.flush,
        "calculation page on screen": calc.update_on_screen,
        "painting what changed": h.settle,
        "grab": h.window.grab,
        REST: calc.regenerate,
    })
    return {name: median_ms(v) for name, v in parts.items()}


def main(argv: list[str]) -> int:
    complaint = bench.unknown_case(argv)
    if complaint:
        print(f"breakdown: {complaint}", file=sys.stderr)
        return 2
    bench.setup_worker_process()
    for case in argv or ["lets-go", "pizza", "64", "256", "512"]:
        h = bench.Harness(bench.make_document(case))
        idle, edit, typing = idle_grab_parts(h), edit_parts(h), typing_parts(h)
        h.close()
        print(f"{case}")
        print("  idle grab:  " + ", ".join(f"{k} {v:.1f}" for k, v in idle.items()))
        for label, parts in (("one edit:  ", edit), ("keystroke: ", typing)):
            rest = parts.pop(REST)
            print(f"  {label} " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
                  + f"; sum {sum(parts.values()):.1f}; apart: {REST} {rest:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
