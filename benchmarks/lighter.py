"""What each panel of the window costs an edit, against matplotlib's two heatmaps. All in one process.

    python benchmarks/lighter.py [CASE] [ROUNDS]     (default: lets-go, 12 rounds)

The issue compares the whole window (seven panels, the tables and the
controls) with a matplotlib figure of two heatmaps. This asks how much of
edit → pixels is the content matplotlib draws and how much the panels it
does not. It builds one real MainWindow per configuration below. A panel
is taken out by hiding it and putting an empty widget of its size in its
dock, so that every other panel keeps its size (closing the dock would
hand its room to the others); a hidden panel does no work. The controls and tables are
taken out by hiding the central widget's children: they paint nothing,
but their models (the tables', the token chips') still follow each edit.
The last configuration is another window: the two heatmaps alone in a
window of the matplotlib figure's size. Round after round, 30 edit →
pixels frames of each configuration (timed as bench.py times them) then
alternate with four matplotlib "notebook" redraws, so that all meet the
same spells; after each configuration's frames the calculation panel's
pause (3 × REST_DELAY_MS) runs untimed, so that its page's rest lands
there and not in the next configuration's frames. It prints each
configuration's median, how much less it is than the default window's
(what the panels taken out cost an edit) and its ratio to matplotlib's
median. Beside live windows matplotlib runs slower than in bench.py's own
subprocess (see spells.py): read the ratios for how they move from one
configuration to the next.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (bench puts the repository first on sys.path)

FRAMES, REDRAWS, WARMUP = 30, 4, 20
MPL_SIZE = (740, 400)  # bench.MplHeatmaps' figure: 7.4 × 4.0 in at 100 dpi

# the bar chart and the output repeat numbers shown elsewhere (a row of the weights; the page's y)
OPTIONAL = ("output", "selected")
# (label, panels hidden in their docks, controls and tables hidden)
CONFIGURATIONS = [
    ("the default window", (), False),
    ("− output", ("output",), False),
    ("− output, selected token's weights", OPTIONAL, False),
    ("− output, selected, controls and tables", OPTIONAL, True),
    ("− output, selected, calculation", (*OPTIONAL, "calculation"), False),
    ("− all but the two heatmaps", (*OPTIONAL, "calculation"), True),
]
ALONE = "two heatmaps alone at matplotlib's size"


def configured(case: str, hidden: tuple[str, ...], bare: bool) -> bench.Harness:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    h = bench.Harness(bench.make_document(case))
    w = h.window
    for key in hidden:
        # an empty widget of the panel's size in its place: the dock keeps its room, the others theirs
        dock = w.docks[key]
        panel = dock.widget()
        stand_in = QWidget()
        stand_in.setFixedSize(panel.size())
        panel.hide()
        dock.setWidget(stand_in)
    if bare:
        central = w.centralWidget()
        central.setFixedSize(central.size())
        for child in central.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            child.hide()
    h.settle()
    w.grab()
    return h


def alone(case: str) -> bench.Harness:
    """The two heatmap docks alone, in a window of the matplotlib figure's size."""
    h = bench.Harness(bench.make_document(case))
    for key, dock in h.window.docks.items():
        if key not in ("scores", "weights"):
            dock.close()
    h.window.centralWidget().hide()
    h.window.setMinimumSize(0, 0)
    h.window.resize(*MPL_SIZE)
    h.settle()
    h.window.grab()
    return h


def main(argv: list[str]) -> int:
    parsed = bench.case_and_count(argv, "lighter", "ROUNDS", 12)
    if parsed is None:
        return 2
    case, rounds = parsed
    bench.setup_worker_process()
    redraw = bench.notebook_redraw(case)
    windows = [configured(case, hidden, bare) for _, hidden, bare in CONFIGURATIONS] + [alone(case)]
    labels = [label for label, *_ in CONFIGURATIONS] + [ALONE]
    frames = [bench.frame_timer(h, WARMUP + rounds * FRAMES) for h in windows]
    for k in range(len(windows)):
        for _ in range(WARMUP):
            frames[k]()
        bench.after_pause(windows[k])  # the calculation's pause, untimed
    redraw()
    ours: list[list[float]] = [[] for _ in windows]
    theirs: list[float] = []
    for r in range(rounds):
        for k in range(len(windows)):
            ours[k].extend(frames[k]() for _ in range(FRAMES))
            bench.after_pause(windows[k])  # the calculation's pause, untimed
        theirs.extend(redraw() for _ in range(REDRAWS))
        print(f"{time.strftime('%H:%M:%S')}  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
    for h in windows:
        h.close()

    mpl = 1000 * statistics.median(theirs)
    print(f"{case}, {rounds} rounds of {FRAMES} edits a configuration; matplotlib notebook redraw "
          f"{mpl:.1f} ms (median of {len(theirs)})")
    print(f"{'configuration':42} {'edit → pixels':>14} {'less than the default':>22} {'ratio':>7}")
    default = 1000 * statistics.median(ours[0])
    for label, samples in zip(labels, ours, strict=True):
        m = 1000 * statistics.median(samples)
        less = f"{default - m:.2f} ms" if m != default else ""
        print(f"{label:42} {m:11.2f} ms {less:>22} {mpl / m:6.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
