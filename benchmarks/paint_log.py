"""Which widgets paint, and for how long, while edits or keystrokes land.

    python benchmarks/paint_log.py [CASE] [edit|type]     (default: 64 type)

The same edits and keystrokes as bench.py. An application event filter
delivers each paint event itself and times it, apart for the settling
after an edit (what a person at a screen waits for) and for the final
``grab()``. It prints, per frame and per phase, the widgets by paint time
and how often each painted. The filter costs a few microseconds a paint:
the figures compare widgets with each other, they are not edit → pixels.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (bench puts the repository first on sys.path)

FRAMES, WARMUP = 40, 5
SHOWN = 25  # widgets listed per phase


def widget_name(widget) -> str:
    """Class, the names of up to three ancestors, and the object name: enough to tell the widgets apart."""
    ancestors, parent = [], widget.parent()
    while parent is not None and len(ancestors) < 3:
        ancestors.append(parent.objectName() or type(parent).__name__)
        parent = parent.parent()
    own = f"#{widget.objectName()}" if widget.objectName() else ""
    return f"{type(widget).__name__}<{'/'.join(ancestors)}>{own}"


def make_filter(phase: list[str], seconds: dict[str, Counter], counts: dict[str, Counter]):
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    class PaintTimer(QObject):
        delivering = False

        def eventFilter(self, watched, event) -> bool:
            if event.type() != QEvent.Type.Paint or phase[0] not in seconds or self.delivering:
                return False
            # deliver it now, through the widget's own filters (a scroll area's viewport has one)
            self.delivering = True
            start = time.perf_counter()
            try:
                QCoreApplication.sendEvent(watched, event)
            finally:
                self.delivering = False
            name = widget_name(watched)
            seconds[phase[0]][name] += time.perf_counter() - start
            counts[phase[0]][name] += 1
            return True

    return PaintTimer()


def main(argv: list[str]) -> int:
    case = argv[0] if argv else "64"
    mode = argv[1] if len(argv) > 1 else "type"
    complaint = bench.unknown_case([case])
    if complaint:
        print(f"paint_log: {complaint}", file=sys.stderr)
        return 2
    if mode not in ("edit", "type"):
        print(f"paint_log: the mode is 'edit' or 'type', not {mode!r}", file=sys.stderr)
        return 2
    bench.setup_worker_process()
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    h = bench.Harness(bench.make_document(case))
    phase = ["off"]
    seconds: dict[str, Counter] = {"settle": Counter(), "grab": Counter()}
    counts: dict[str, Counter] = {"settle": Counter(), "grab": Counter()}
    totals: Counter = Counter()
    timer = make_filter(phase, seconds, counts)
    h.app.installEventFilter(timer)
    edit = h.window.sentence_edit
    edit.setFocus()
    edit.end(False)
    keys = [Qt.Key.Key_X, Qt.Key.Key_Backspace]
    cells = bench.edit_cells(h.table.rowCount(), h.table.columnCount(), FRAMES + WARMUP)
    for k in range(FRAMES + WARMUP):
        if k == WARMUP:
            for table in (*seconds.values(), *counts.values(), totals):
                table.clear()
        start = time.perf_counter()
        if mode == "type":
            QTest.keyClick(edit, keys[k % 2])
        else:
            h.edit(*cells[k])
        phase[0] = "settle"
        h.settle()
        settled = time.perf_counter()
        phase[0] = "grab"
        h.window.grab()
        phase[0] = "off"
        totals["settle"] += settled - start
        totals["grab"] += time.perf_counter() - settled
    h.app.removeEventFilter(timer)
    h.close()
    print(f"{case}, {mode}: ms per frame (means over {FRAMES} frames after {WARMUP} warm-up)")
    for name in ("settle", "grab"):
        painted = sum(seconds[name].values())
        print(f"== {name}: {1000 * totals[name] / FRAMES:.1f} ms, of which painting {1000 * painted / FRAMES:.1f}")
        for widget, spent in seconds[name].most_common(SHOWN):
            print(f"  {1000 * spent / FRAMES:6.2f}  ×{counts[name][widget] / FRAMES:.1f}  {widget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
