"""Do this machine's fast and slow spells move attnviz and matplotlib alike? Both, alternating, in one process.

    python benchmarks/spells.py [CASE] [BLOCKS]     (default: lets-go, 20 blocks)

A block is 40 edit → pixels frames of the real window, timed as bench.py
times them, then six matplotlib "notebook" redraws of the same document
(bench.py's figure for the ratio). Each block prints both medians and their
ratio; the end, their ranges and how they correlate across blocks. Beside
a live window the matplotlib redraws run slower than in bench.py's own
subprocess: compare the spread of the ratios with bench.py, not their level.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (bench puts the repository first on sys.path)

FRAMES, REDRAWS, WARMUP = 40, 6, 30


def main(argv: list[str]) -> int:
    parsed = bench.case_and_count(argv, "spells", "BLOCKS", 20)
    if parsed is None:
        return 2
    case, blocks = parsed
    bench.setup_worker_process()
    import numpy as np

    redraw = bench.notebook_redraw(case)
    h = bench.Harness(bench.make_document(case))
    frame = bench.frame_timer(h, WARMUP + blocks * FRAMES)
    for _ in range(WARMUP):
        frame()
    redraw()
    rows = []
    for _ in range(blocks):
        ours = 1000 * statistics.median(frame() for _ in range(FRAMES))
        theirs = 1000 * statistics.median(redraw() for _ in range(REDRAWS))
        rows.append((ours, theirs))
        print(f"{time.strftime('%H:%M:%S')}  attnviz {ours:6.2f} ms  matplotlib {theirs:6.1f} ms  "
              f"ratio {theirs / ours:5.1f}×", flush=True)
    h.close()
    ours_all, theirs_all = [r[0] for r in rows], [r[1] for r in rows]
    ratios = [t / o for o, t in rows]
    together = np.corrcoef(ours_all, theirs_all)[0, 1]
    print(f"{case}, {blocks} blocks: attnviz {min(ours_all):.2f}–{max(ours_all):.2f} ms, "
          f"matplotlib {min(theirs_all):.0f}–{max(theirs_all):.0f} ms, ratio {min(ratios):.1f}–{max(ratios):.1f}× "
          f"(median {statistics.median(ratios):.1f}×), correlation of the two {together:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
