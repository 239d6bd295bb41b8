"""What each panel of the window costs an edit, against matplotlib's two heatmaps. All in one process.

    python benchmarks/lighter.py [CASE] [ROUNDS]     (default: lets-go, 12 rounds)

The issue compares the whole window (seven panels, the tables and the
controls) with a matplotlib figure of two heatmaps. This asks how much of
edit → pixels is the content matplotlib draws and how much the panels it
does not. It builds one real MainWindow per configuration below, each with
some panels taken out (a dock closed as a user closes it, or the controls
and tables hidden), then alternates, round after round, 30
edit → pixels frames of each (timed as bench.py times them) with four
matplotlib "notebook" redraws, so that every configuration meets the same
spells. It prints each configuration's median, how much less it is than
the default window's (what the panels taken out cost an edit) and its
ratio to matplotlib's median. Beside live windows matplotlib runs slower than in
bench.py's own subprocess (see spells.py): read the ratios for how they
move from one configuration to the next.
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
OPTIONAL = ("output", "pe", "selected", "lines")
# (label, docks closed, controls and tables hidden, window size)
CONFIGURATIONS = [
    ("the default window", (), False, bench.WINDOW_SIZE),
    ("− output (and PE behind it)", ("output", "pe"), False, bench.WINDOW_SIZE),
    ("− output, selected token's weights", OPTIONAL, False, bench.WINDOW_SIZE),
    ("− output, selected, controls and tables", OPTIONAL, True, bench.WINDOW_SIZE),
    ("− output, selected, calculation", (*OPTIONAL, "calculation"), False, bench.WINDOW_SIZE),
    ("two heatmaps alone", (*OPTIONAL, "calculation"), True, bench.WINDOW_SIZE),
    ("two heatmaps alone at matplotlib's size", (*OPTIONAL, "calculation"), True, MPL_SIZE),
]


def configured(case: str, closed: tuple[str, ...], bare: bool, size: tuple[int, int]) -> bench.Harness:
    h = bench.Harness(bench.make_document(case))
    for key in closed:
        h.window.docks[key].close()
    if bare:
        h.window.centralWidget().hide()
    h.window.resize(*size)
    h.settle()
    h.window.grab()
    return h


def main(argv: list[str]) -> int:
    case = argv[0] if argv else "lets-go"
    complaint = bench.unknown_case([case])
    if complaint:
        print(f"lighter: {complaint}", file=sys.stderr)
        return 2
    try:
        rounds = int(argv[1]) if len(argv) > 1 else 12
    except ValueError:
        rounds = 0
    if rounds < 2:
        print(f"lighter: ROUNDS must be a whole number of at least 2, got {argv[1]!r}", file=sys.stderr)
        return 2
    bench.setup_worker_process()
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from attnviz.engine import forward

    windows = [configured(case, closed, bare, size) for _, closed, bare, size in CONFIGURATIONS]
    cells = [iter(bench.edit_cells(h.table.rowCount(), h.table.columnCount(), WARMUP + rounds * FRAMES))
             for h in windows]
    doc = bench.make_document(case)
    W_q = np.array(doc.W_q)
    sign = [1.0]

    def frame(k: int) -> float:
        h = windows[k]
        t0 = time.perf_counter()
        h.edit(*next(cells[k]))
        h.frame()
        return time.perf_counter() - t0

    def redraw() -> float:
        sign[0] = -sign[0]
        W_q[0, 0, 0] += 0.01 * sign[0]
        t0 = time.perf_counter()
        bench.MplHeatmaps(forward(doc.replace(W_q=W_q))).draw()
        return time.perf_counter() - t0

    for k in range(len(windows)):
        for _ in range(WARMUP):
            frame(k)
    redraw()
    ours: list[list[float]] = [[] for _ in windows]
    theirs: list[float] = []
    for r in range(rounds):
        for k in range(len(windows)):
            ours[k].extend(frame(k) for _ in range(FRAMES))
        theirs.extend(redraw() for _ in range(REDRAWS))
        print(f"{time.strftime('%H:%M:%S')}  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
    for h in windows:
        h.close()

    mpl = 1000 * statistics.median(theirs)
    print(f"{case}, {rounds} rounds of {FRAMES} edits a configuration; matplotlib notebook redraw "
          f"{mpl:.1f} ms (median of {len(theirs)})")
    print(f"{'configuration':42} {'edit → pixels':>14} {'less than the default':>22} {'ratio':>7}")
    default = 1000 * statistics.median(ours[0])
    for (label, *_), samples in zip(CONFIGURATIONS, ours, strict=True):
        m = 1000 * statistics.median(samples)
        less = f"{default - m:.2f} ms" if m != default else ""
        print(f"{label:42} {m:11.2f} ms {less:>22} {mpl / m:6.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
