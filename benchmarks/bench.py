"""attnviz benchmark: how long from an edit to new pixels, against the floors.

    python benchmarks/bench.py            # readable table (about 5 minutes on 2 cores)
    python benchmarks/bench.py --json     # one JSON object with every figure
    python benchmarks/bench.py --cases lets-go,pizza --skip-startup
    python benchmarks/bench.py --profile 512 [--phase edit|type|burst]   # pyinstrument/cProfile

Needs the ``bench`` extra (``pip install ".[bench]"``: matplotlib, psutil).

Every case runs in a fresh subprocess (``--worker CASE``) so that its peak RSS
is its own; the matplotlib comparison runs in another (``--mpl CASE``) so that
matplotlib's memory is not charged to attnviz. Qt runs offscreen and QSettings
go to a throw-away folder. The source tree this file sits in is the one
measured (it is put first on ``sys.path`` / ``PYTHONPATH``), not whatever
attnviz happens to be installed.

What is timed (``time.perf_counter``; median and p90 after warm-up):

edit → pixels   ``setData(index, text, EditRole)`` on ``table:W_q``'s model,
                then process events until the coalesced recompute and every
                panel's refresh have landed, then ``window.grab()``.
                "of which grab" is the median of that final grab alone.
type → pixels   one key press (alternately a letter and Backspace at the end
                of ``sentenceEdit``, via QTest), then the same.
forward         ``attnviz.engine.forward(doc)`` alone: the computation floor.
bare grab       ``grab()`` of an empty 1280×800 QMainWindow: the paint floor.
idle grab       ``grab()`` of the real window, settled, with no edit: what
                painting this window costs when nothing changed, the floor
                under edit → pixels (which paints the changed panels, then
                grabs).
repaint         what an edit paints, painted again with nothing changed:
                the regions each widget painted while the warm-up edits
                settled (the plots on screen, whose kept pictures are
                forgotten, a strip of the calculation text, the status
                bar's time), then settle and grab: the pixels' share of an
                edit. Timed alternately with 30 more edit → pixels frames;
                "computing" is the median of each such edit minus the
                repaint after it (the model, the forward pass, the panels'
                updates, colouring the images, placing the numbers).
burst           1000 ``setData`` calls in one event-loop turn, then settle and
                grab: recomputes (``model.recompute_count``) and redraws of
                each panel (``refresh_count`` / ``regenerations``; for the
                calculation panel, updates of its whole page or of the blocks
                on screen). Then, after a pause of 3 × REST_DELAY_MS, what the
                pause caused: the calculation panel brings the rest of its
                page up to date (one whole-page update).
matplotlib      the two heatmaps (scores and softmax weights of head 1) with
                the numbers in the cells, redrawn on the Agg canvas after the
                same edit. "notebook": re-run the cell (forward pass, new
                figure, draw); "in place": update a kept figure and draw.
start → frame   wall time of ``python -m attnviz --screenshot OUT.png`` vs a
                bare PySide6 + pyqtgraph script that shows one PlotWidget at
                the same size, grabs it and saves the PNG (the import floor).
                Beside it, when each PNG was written (its modification time):
                the same start without the process's exit.
table 512×512   a d_model 512 document: open the W_q tab, scroll to the
                bottom-right corner, scroll page by page, each followed by
                settle + grab.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1280, 800)
SEED = 0
SIGMA = 0.5
EDITS = 40          # timed edits per case (≥ 30 even for the largest case)
MIN_EDITS = 30
WARMUP = 5
BURST = 1000
FORWARD_REPS = 50
REPAINTS = 30       # repaint frames, each after an edit → pixels frame
STARTUP_RUNS = 5
# attnviz prints numbers in heatmap cells only up to this many rows/columns
# (attnviz.gui.heatmap.MAX_NUMBERED); the matplotlib comparison follows the same rule.
MAX_NUMBERED = 16
# A "stall" is a frame that takes longer than this.
STALL_MS = 100.0
# A frame slower than this puts a case in "slow mode": fewer samples, flagged in the report.
SLOW_FRAME_S = 1.0
# Wall-clock budget of one case's attnviz worker (the whole run should stay under ~10 minutes).
CASE_BUDGET_S = 120.0

# name -> (tokens, d_model, heads); None = a bundled example
CASES: dict[str, tuple[int, int, int] | None] = {
    "lets-go": None,
    "pizza": None,
    "64": (64, 64, 4),
    "256": (256, 64, 4),
    "512": (512, 128, 8),
}
TABLE_CASE = "table-512"  # d_model 512 → W_q is a 512 × 512 table
TABLE_DOC = (8, 512, 1)
CASE_TITLES = {
    "lets-go": "lets-go",
    "pizza": "pizza",
    "64": "64 tok × d64 × 4h",
    "256": "256 tok × d64 × 4h",
    "512": "512 tok × d128 × 8h",
    TABLE_CASE: "W_q 512 × 512 table",
}


def unknown_case(cases, known=tuple(CASES)) -> str | None:
    """The one-line complaint about the first of ``cases`` that is not one of ``known``, or None."""
    for case in cases:
        if case not in known:
            return f"unknown case {case!r}; the cases are {', '.join(known)}"
    return None


# Targets (medians, 2 cores, offscreen).
EDIT_TARGET_MS = {"lets-go": 16.0, "pizza": 16.0, "64": 16.0, "256": 33.0, "512": 100.0}
TYPE_TARGET_MS = {"64": 33.0}
MPL_RATIO_TARGET = 20.0
MPL_RATIO_CASES = ("lets-go", "pizza")
STARTUP_RATIO_TARGET = 1.5
RSS_TARGET_MB = {"512": 400.0}


# ---- small helpers ------------------------------------------------------------
def stats(samples: list[float]) -> dict[str, float]:
    """Median, p90, min and max of ``samples`` (seconds) in milliseconds."""
    ms = sorted(s * 1e3 for s in samples)
    if not ms:
        return {"n": 0}
    p90 = ms[min(len(ms) - 1, max(0, round(0.9 * len(ms) + 0.5) - 1))]
    return {"n": len(ms), "median_ms": statistics.median(ms), "p90_ms": p90, "min_ms": ms[0], "max_ms": ms[-1]}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2**20 if sys.platform == "darwin" else kb / 2**10  # bytes on macOS, KiB on Linux


_PYCACHE: list[str] = []


def offscreen_env() -> dict[str, str]:
    """Children: offscreen, throw-away settings, this source tree first, and byte code cached
    (outside the tree) even where PYTHONDONTWRITEBYTECODE is set, as an installed app would have it."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["QT_NO_GUI_THREADPOOL"] = "1"  # as attnviz.gui.app sets it: the bare start-up floor paints the same way
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="attnviz-bench-config-")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not _PYCACHE:
        _PYCACHE.append(tempfile.mkdtemp(prefix="attnviz-bench-pycache-"))
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE[0]
    return env


def setup_worker_process() -> None:
    """Before Qt is imported: offscreen, throw-away settings, this source tree first."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="attnviz-bench-config-"))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def make_document(case: str):
    """The document of a case: a bundled example, or seeded random weights."""
    import numpy as np

    from attnviz.engine import Document
    from attnviz.engine.examples import load_example

    spec = TABLE_DOC if case == TABLE_CASE else CASES[case]
    if spec is None:
        return load_example(case)
    n, d_model, heads = spec
    d_k = d_model // heads
    rng = np.random.default_rng(SEED)
    vocab = tuple(f"w{i}" for i in range(n))  # n distinct words: every token is known
    order = rng.permutation(n)
    return Document(
        vocab=vocab,
        embeddings=rng.normal(0.0, SIGMA, (n, d_model)),
        W_q=rng.normal(0.0, SIGMA, (heads, d_model, d_k)),
        W_k=rng.normal(0.0, SIGMA, (heads, d_model, d_k)),
        W_v=rng.normal(0.0, SIGMA, (heads, d_model, d_k)),
        sentence=" ".join(vocab[i] for i in order),
    )


def edit_cells(rows: int, cols: int, count: int) -> list[tuple[int, int]]:
    """``count`` cells spread over a rows × cols matrix (deterministic)."""
    return [((k * 7) % rows, (k * 3 + k // rows) % cols) for k in range(count)]


# ---- the attnviz worker ---------------------------------------------------------
class Harness:
    """The real main window on ``doc``, shown offscreen, with the counters the benchmark reads."""

    def __init__(self, doc) -> None:
        from PySide6.QtCore import Qt

        from attnviz.gui.app import application
        from attnviz.gui.main_window import MainWindow

        self.app = application()
        self.window = MainWindow(doc)
        self.window.resize(*WINDOW_SIZE)
        self.window.show()
        self.model = self.window.model
        self.table = self.window.tables["W_q"].model()
        self.edit_role = Qt.ItemDataRole.EditRole
        self.panels = {
            name: getattr(self.window, name)
            for name in ("scores", "weights", "selected", "output", "lines", "pe", "calculation")
            if hasattr(self.window, name)
        }
        # Looked up once: a failed attribute lookup on a QObject makes PySide scan the
        # class's meta-object for a signal of that name (≈ 10 µs, and a PlotWidget
        # passes it on to its PlotItem, so ≈ 20), and counters() runs inside the
        # timed span several times an edit.
        self._count_names = {
            name: [a for a in ("regenerations", "on_screen_updates") if hasattr(panel, a)]
            or [a for a in ("refresh_count",) if hasattr(panel, a)]
            for name, panel in self.panels.items()
        }
        self._flip = 0
        self.last_grab = 0.0
        self.settle()
        self.window.grab()

    def counters(self) -> dict[str, int]:
        c = {"recompute": self.model.recompute_count}
        for name, panel in self.panels.items():
            # the calculation panel may update just the part of its page on screen
            names = self._count_names[name]
            c[name] = sum(getattr(panel, a) for a in names) if names else -1
        return c

    def on_screen(self) -> dict[str, bool]:
        """Whether each panel is inside the window (a background dock tab sits at negative coordinates)."""
        from PySide6.QtCore import QPoint, QRect

        w = self.window
        return {
            name: p.isVisible() and w.rect().intersects(QRect(p.mapTo(w, QPoint(0, 0)), p.size()))
            for name, p in self.panels.items()
        }

    def settle(self, limit: int = 50) -> int:
        """Process events until a pass changes no counter (the zero-timers have fired)."""
        before = self.counters()
        for i in range(limit):
            self.app.processEvents()
            now = self.counters()
            if now == before and i > 0:
                return i + 1
            before = now
        return limit

    def frame(self):
        """Settle, then paint the whole window: 'pixels'. ``last_grab`` keeps the grab's share (s)."""
        self.settle()
        t0 = time.perf_counter()
        pixels = self.window.grab()
        self.last_grab = time.perf_counter() - t0
        return pixels

    def edit(self, row: int, col: int) -> None:
        index = self.table.index(row, col)
        value = float(self.table.values()[row, col])
        self._flip += 1
        delta = 0.01 * (1 + self._flip % 5) * (1 if self._flip % 2 else -1)
        ok = self.table.setData(index, repr(value + delta), self.edit_role)
        if not ok:
            raise RuntimeError(f"setData({row}, {col}) was refused")

    def close(self) -> None:
        self.model.undo_stack.setClean()  # no "save changes?" on the way out
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()
        self.app.sendPostedEvents(None, 0)


def time_edits(h: Harness, count: int, warmup: int,
               deadline: float) -> tuple[list[float], dict[str, float], list[float]]:
    """Edit → pixels for ``count`` edits; also the mean counter change per edit, and each sample's final grab.

    Past ``deadline`` (perf_counter) it stops once it has MIN_EDITS samples; when
    one frame takes longer than SLOW_FRAME_S it keeps only what fits before the
    deadline (at least one sample), so a pathological case reports instead of hanging.
    """
    rows, cols = h.table.rowCount(), h.table.columnCount()
    cells = iter(edit_cells(rows, cols, warmup + count))
    slow = False
    samples: list[float] = []
    grabs: list[float] = []  # each sample's final grab() (the rest is settling: compute, redraw, paint)
    before = h.counters()
    for _ in range(warmup):
        t0 = time.perf_counter()
        h.edit(*next(cells))
        h.frame()
        if time.perf_counter() - t0 > SLOW_FRAME_S:
            # far off any target: the cold frame is kept as a sample rather than waiting for another
            slow = True
            samples.append(time.perf_counter() - t0)
            break
    if not slow:
        before = h.counters()
    for r, c in cells:
        if slow and not keep_going(samples, count, deadline, slow):
            break
        t0 = time.perf_counter()
        h.edit(r, c)
        h.frame()
        samples.append(time.perf_counter() - t0)
        grabs.append(h.last_grab)
        if keep_going(samples, count, deadline, slow):
            continue
        break
    after = h.counters()
    per_edit = {k: (after[k] - before[k]) / len(samples) for k in after}
    return samples, per_edit, grabs


def keep_going(samples: list[float], count: int, deadline: float, slow: bool) -> bool:
    now = time.perf_counter()
    if len(samples) >= count:
        return False
    if slow or samples[-1] > SLOW_FRAME_S:
        return now + samples[-1] < deadline
    return len(samples) < MIN_EDITS or now < deadline


def time_typing(h: Harness, count: int, warmup: int, deadline: float) -> list[float]:
    """One key into sentenceEdit → pixels: a letter, then Backspace, and so on."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    edit = h.window.sentence_edit
    edit.setFocus()
    edit.end(False)
    keys = [Qt.Key.Key_X, Qt.Key.Key_Backspace]
    samples: list[float] = []
    slow = False
    for k in range(warmup + count + 1):
        t0 = time.perf_counter()
        QTest.keyClick(edit, keys[k % 2])
        h.frame()
        dt = time.perf_counter() - t0
        if k < warmup and not slow:
            slow = dt > SLOW_FRAME_S
            if not slow:
                continue
        samples.append(dt)
        # stop on a Backspace, so the sentence is back to the document's own
        if (k % 2 or slow) and not keep_going(samples, count, deadline, slow):
            break
    if edit.text() != h.model.sentence:
        raise RuntimeError("typing did not reach the model")
    return samples


def time_burst(h: Harness) -> dict:
    """BURST setData calls in one event-loop turn: what they cost and what they caused."""
    rows, cols = h.table.rowCount(), h.table.columnCount()
    cells = edit_cells(rows, cols, BURST)
    h.frame()
    before = h.counters()
    t0 = time.perf_counter()
    for r, c in cells:
        h.edit(r, c)
    t1 = time.perf_counter()
    h.frame()
    t2 = time.perf_counter()
    after = h.counters()
    caused = {k: after[k] - before[k] for k in after}
    on_screen = h.on_screen()
    ok = caused["recompute"] == 1 and all(
        caused[name] == (1 if on_screen[name] else 0) for name in h.panels
    )
    return {
        "edits": BURST,
        "calls_ms": (t1 - t0) * 1e3,
        "to_pixels_ms": (t2 - t0) * 1e3,
        "caused": caused,
        "on_screen": on_screen,
        "exactly_one_each": ok,
        "after_pause": after_pause(h),
    }


def after_pause(h: Harness) -> dict[str, int]:
    """What the window does once edits pause: the calculation panel brings the rest of its page up to date."""
    from attnviz.gui.calculation_panel import REST_DELAY_MS

    before = h.counters()
    deadline = time.perf_counter() + 3 * REST_DELAY_MS / 1000
    while time.perf_counter() < deadline:
        h.app.processEvents()
        time.sleep(0.002)
    after = h.counters()
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def time_forward(doc, reps: int) -> list[float]:
    import numpy as np

    from attnviz.engine import forward

    samples = []
    with np.errstate(all="ignore"):
        for _ in range(3):
            forward(doc)
        for _ in range(reps):
            t0 = time.perf_counter()
            forward(doc)
            samples.append(time.perf_counter() - t0)
    return samples


def time_bare_grab(reps: int) -> list[float]:
    from PySide6.QtWidgets import QMainWindow

    from attnviz.gui.app import application

    app = application()
    bare = QMainWindow()
    bare.resize(*WINDOW_SIZE)
    bare.show()
    app.processEvents()
    for _ in range(3):
        bare.grab()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        app.processEvents()
        bare.grab()
        samples.append(time.perf_counter() - t0)
    bare.close()
    bare.deleteLater()
    app.processEvents()
    return samples


def time_idle_grab(h: Harness, reps: int) -> list[float]:
    """The settled window grabbed again and again: its repaint with nothing to compute."""
    h.settle()
    for _ in range(3):
        h.window.grab()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        h.window.grab()
        samples.append(time.perf_counter() - t0)
    return samples


def time_repaint(h: Harness, reps: int) -> tuple[list[float], list[float]]:
    """What an edit paints, painted again with nothing changed: the pixels' share of edit → pixels.

    The warm-up edits record where their settling paints (each widget's region,
    kept if it painted in most of them: not a cursor's blink); each repaint
    frame then updates exactly those regions, the kept pictures of the plots
    among them forgotten, and settles and grabs. Alternates with edit → pixels
    frames, so that the two meet the machine's same spells; returns
    (repaints, the edits between them).
    """
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QRegion
    from PySide6.QtWidgets import QGraphicsView

    from attnviz.gui.kept_view import KeptView

    kept = {v.viewport(): v for v in h.window.findChildren(QGraphicsView) if isinstance(v, KeptView)}
    cells = iter(edit_cells(h.table.rowCount(), h.table.columnCount(), reps + 2 * WARMUP))
    regions: dict = {}
    times: dict = {}

    class WherePainted(QObject):
        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                regions[watched] = regions.get(watched, QRegion()).united(event.region())
                times[watched] = times.get(watched, 0) + 1
            return False

    def edit() -> None:
        h.edit(*next(cells))
        h.frame()

    recorder = WherePainted()
    for _ in range(WARMUP):  # (the grab paints outside settle; it is not recorded)
        h.edit(*next(cells))
        h.app.installEventFilter(recorder)
        h.settle()
        h.app.removeEventFilter(recorder)
        h.window.grab()
    painted = [(w, r) for w, r in regions.items() if 2 * times[w] > WARMUP]

    def repaint() -> None:
        for widget, region in painted:
            if widget in kept:
                kept[widget].forget_picture()
            widget.update(region)
        h.frame()

    repaints: list[float] = []
    edits: list[float] = []
    for k in range(reps + WARMUP):
        for step, samples in ((edit, edits), (repaint, repaints)):
            t0 = time.perf_counter()
            step()
            if k >= WARMUP:
                samples.append(time.perf_counter() - t0)
    return repaints, edits


def time_table(h: Harness, deadline: float) -> dict:
    """Open the (512 × 512) W_q tab and scroll it; each step ends with settle + grab."""
    view = h.window.tables["W_q"]
    model = view.model()
    out: dict = {"rows": model.rowCount(), "cols": model.columnCount()}
    t0 = time.perf_counter()
    h.window.tabs.setCurrentWidget(view)
    h.frame()
    out["open_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    view.scrollTo(model.index(model.rowCount() - 1, model.columnCount() - 1))
    h.frame()
    out["scroll_to_corner_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    view.scrollTo(model.index(0, 0))
    h.frame()
    out["scroll_to_origin_ms"] = (time.perf_counter() - t0) * 1e3
    steps = []
    vbar, hbar = view.verticalScrollBar(), view.horizontalScrollBar()
    for k in range(30):
        bar = vbar if k % 2 == 0 else hbar
        t0 = time.perf_counter()
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
        h.frame()
        steps.append(time.perf_counter() - t0)
    out["page_scroll"] = stats(steps)
    samples, _, _ = time_edits(h, MIN_EDITS, WARMUP, deadline)
    out["edit_visible_table"] = stats(samples)
    worst = max(out["open_ms"], out["scroll_to_corner_ms"], out["scroll_to_origin_ms"], out["page_scroll"]["max_ms"])
    out["worst_ms"] = worst
    out["no_stall"] = worst <= STALL_MS
    return out


def run_worker(case: str, edits: int) -> dict:
    setup_worker_process()
    t_start = time.perf_counter()
    from attnviz.engine import tokenize

    doc = make_document(case)
    n_tokens = len(tokenize(doc.sentence))
    result: dict = {
        "case": case,
        "tokens": n_tokens,
        "d_model": doc.d_model,
        "heads": doc.n_heads,
        "d_k": doc.d_k,
    }
    big = n_tokens >= 512 or case == TABLE_CASE
    result["forward"] = stats(time_forward(doc, FORWARD_REPS))
    result["bare_grab"] = stats(time_bare_grab(30))
    t0 = time.perf_counter()
    h = Harness(doc)
    result["window_first_frame_ms"] = (time.perf_counter() - t0) * 1e3
    result["on_screen"] = h.on_screen()
    end = time.perf_counter() + CASE_BUDGET_S
    if case == TABLE_CASE:
        result["table"] = time_table(h, end)
    else:
        result["idle_grab"] = stats(time_idle_grab(h, 30))
        samples, per_edit, grabs = time_edits(h, edits, WARMUP, deadline=end - CASE_BUDGET_S / 2)
        result["edit_to_pixels"] = stats(samples)
        result["edit_grab_share"] = stats(grabs)
        if max(samples) < SLOW_FRAME_S:  # (a pathological case reports without it)
            repaints, edits_beside = time_repaint(h, REPAINTS)
            result["repaint"] = stats(repaints)
            result["edit_beside_repaint"] = stats(edits_beside)
            result["computing"] = stats([e - r for e, r in zip(edits_beside, repaints, strict=True)])
        result["per_edit_counters"] = per_edit
        typing = time_typing(h, MIN_EDITS if big else edits, 4, deadline=end - CASE_BUDGET_S / 6)
        result["type_to_pixels"] = stats(typing)
        if time.perf_counter() < end or max(samples) < SLOW_FRAME_S:
            result["burst"] = time_burst(h)
        else:
            result["burst_skipped"] = "over the case's time budget"
    h.close()
    result["worker_seconds"] = time.perf_counter() - t_start
    result["peak_rss_mb"] = peak_rss_mb()
    return result


# ---- the matplotlib worker --------------------------------------------------------
class MplHeatmaps:
    """Two heatmaps with numbers in the cells, as one would draw them in a notebook."""

    def __init__(self, r) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        # the two heatmap docks are about 370 × 400 px each
        self.fig = Figure(figsize=(7.4, 4.0), dpi=100, layout="constrained")
        self.canvas = FigureCanvasAgg(self.fig)
        axes = self.fig.subplots(1, 2)
        n = r.n_tokens
        self.numbered = n <= MAX_NUMBERED
        self.images, self.texts = [], []
        for ax, (title, cmap) in zip(axes, (("Similarity scores q·k", "RdBu_r"), ("Softmax weights", "Purples")),
                                     strict=True):
            a = r.scores[0] if cmap == "RdBu_r" else r.weights[0]
            vmin, vmax = self.levels(a, cmap)
            im = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_title(title, fontsize=9)
            ax.set_xticks(range(n), r.tokens, fontsize=7, rotation=90)
            ax.set_yticks(range(n), r.tokens, fontsize=7)
            ax.xaxis.tick_top()
            self.fig.colorbar(im, ax=ax, shrink=0.8)
            texts = []
            if self.numbered:
                for i in range(n):
                    for j in range(n):
                        texts.append(ax.text(j, i, f"{a[i, j]:.2f}", ha="center", va="center", fontsize=8))
            self.images.append(im)
            self.texts.append(texts)

    @staticmethod
    def levels(a, cmap: str) -> tuple[float, float]:
        if cmap != "RdBu_r":
            return 0.0, 1.0
        m = float(abs(a).max()) or 1.0
        return -m, m

    def update(self, r) -> None:
        for im, texts, a, cmap in zip(self.images, self.texts, (r.scores[0], r.weights[0]), ("RdBu_r", "Purples"),
                                      strict=True):
            im.set_data(a)
            im.set_clim(*self.levels(a, cmap))
            for k, t in enumerate(texts):
                i, j = divmod(k, a.shape[1])
                t.set_text(f"{a[i, j]:.2f}")

    def draw(self) -> None:
        self.canvas.draw()
        self.canvas.buffer_rgba()  # the pixels


def frame_timer(h: Harness, count: int):
    """A function timing one edit → pixels frame of ``h`` (s), as time_edits times them, over the next of
    ``count`` cells, so that other work can alternate with it (spells.py, lighter.py)."""
    cells = iter(edit_cells(h.table.rowCount(), h.table.columnCount(), count))

    def frame() -> float:
        t0 = time.perf_counter()
        h.edit(*next(cells))
        h.frame()
        return time.perf_counter() - t0

    return frame


def notebook_redraw(case: str):
    """A function timing one matplotlib notebook redraw (s) of ``case``, each after an edit of W_q, as the
    window's own edits alternate with it (spells.py, lighter.py)."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from attnviz.engine import forward

    doc = make_document(case)
    W_q = np.array(doc.W_q)
    sign = [1.0]

    def redraw() -> float:
        sign[0] = -sign[0]
        W_q[0, 0, 0] += 0.01 * sign[0]
        t0 = time.perf_counter()
        MplHeatmaps(forward(doc.replace(W_q=W_q))).draw()
        return time.perf_counter() - t0

    return redraw


def case_and_count(argv: list[str], tool: str, name: str, default: int) -> tuple[str, int] | None:
    """``[CASE] [NAME]`` as the small tools take them (a count of at least 2), or None once the
    tool has said in one line what is wrong."""
    case = argv[0] if argv else "lets-go"
    complaint = unknown_case([case])
    if complaint:
        print(f"{tool}: {complaint}", file=sys.stderr)
        return None
    try:
        count = int(argv[1]) if len(argv) > 1 else default
    except ValueError:
        count = 0
    if count < 2:
        print(f"{tool}: {name} must be a whole number of at least 2, got {argv[1]!r}", file=sys.stderr)
        return None
    return case, count


def run_mpl(case: str, reps: int) -> dict:
    setup_worker_process()
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from attnviz.engine import forward

    doc = make_document(case)
    W_q = np.array(doc.W_q)
    cells = edit_cells(W_q.shape[1], W_q.shape[2], WARMUP + reps)

    def edited(k: int):
        i, j = cells[k]
        W_q[0, i, j] += 0.01 * (1 if k % 2 else -1)
        return doc.replace(W_q=W_q)

    big = len(forward(doc).tokens) > 64
    reps, warmup = (min(reps, 8), 2) if big else (reps, WARMUP)
    out: dict = {"case": case, "numbers_in_cells": len(forward(doc).tokens) <= MAX_NUMBERED}
    for variant in ("notebook", "in_place"):
        kept = MplHeatmaps(forward(doc)) if variant == "in_place" else None
        samples: list[float] = []
        deadline = time.perf_counter() + CASE_BUDGET_S / 2
        for k in range(warmup + reps):
            if len(samples) >= 3 and time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            r = forward(edited(k))
            if kept is None:
                fig = MplHeatmaps(r)
                fig.draw()
            else:
                kept.update(r)
                kept.draw()
            if k >= warmup:
                samples.append(time.perf_counter() - t0)
        out[variant] = stats(samples)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---- start → first frame ----------------------------------------------------------
BARE_START = """
import sys
from PySide6.QtWidgets import QApplication
import pyqtgraph as pg
app = QApplication(sys.argv[:1])
w = pg.PlotWidget()
w.resize({w}, {h})
w.show()
app.processEvents()
if not w.grab().save(sys.argv[1], "PNG"):
    raise SystemExit("could not save")
w.close()
w.deleteLater()
app.processEvents()
"""


def timed_child(cmd: list[str], env: dict[str, str], png: Path | None = None) -> tuple[float, float, float | None]:
    """(wall seconds, peak RSS MB, seconds until ``png`` was last written) of one child process.

    The last is read from the file's modification time, which the kernel keeps to a tick of its
    clock (1–10 ms): the first frame without the process's exit.
    """
    if png is not None:
        png.unlink(missing_ok=True)
    started = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-400:]}")
    written = png.stat().st_mtime - started if png is not None else None
    return wall, usage.ru_maxrss / 2**10, written


def run_startup(runs: int) -> dict:
    env = offscreen_env()
    out_dir = Path(tempfile.mkdtemp(prefix="attnviz-bench-"))
    attnviz = [sys.executable, "-m", "attnviz", "--screenshot", str(out_dir / "attnviz.png"),
               "--size", f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}"]
    bare = [sys.executable, "-c", BARE_START.format(w=WINDOW_SIZE[0], h=WINDOW_SIZE[1]), str(out_dir / "bare.png")]
    timed_child(attnviz, env)  # warm the file cache and __pycache__
    timed_child(bare, env)
    walls: dict[str, list[float]] = {"attnviz": [], "bare": []}
    rss: dict[str, list[float]] = {"attnviz": [], "bare": []}
    written: dict[str, list[float]] = {"attnviz": [], "bare": []}
    for _ in range(runs):
        for name, cmd in (("attnviz", attnviz), ("bare", bare)):
            wall, mb, png = timed_child(cmd, env, out_dir / f"{name}.png")
            walls[name].append(wall)
            rss[name].append(mb)
            written[name].append(png)
    out = {name: {**stats(walls[name]), "peak_rss_mb": max(rss[name]),
                  "png_written_ms": stats(written[name])["median_ms"]} for name in walls}
    out["ratio"] = out["attnviz"]["median_ms"] / out["bare"]["median_ms"]
    return out


# ---- the driver -------------------------------------------------------------------
def child_json(args: list[str], timeout: float) -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=offscreen_env(),
                          capture_output=True, text=True, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def versions() -> dict[str, str]:
    import numpy
    import pyqtgraph
    import PySide6

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import matplotlib

        mpl = matplotlib.__version__
    except ImportError:
        mpl = "missing"
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": numpy.__version__,
        "matplotlib": mpl,
    }


def evaluate(res: dict) -> list[dict]:
    """Every target with its measured figure and whether it is met."""
    checks = []
    cases = res["cases"]

    def add(name: str, value, target: str, ok: bool | None) -> None:
        checks.append({"target": name, "value": value, "limit": target, "met": ok})

    for case, limit in EDIT_TARGET_MS.items():
        if case in cases and "edit_to_pixels" in cases[case]:
            v = cases[case]["edit_to_pixels"]["median_ms"]
            add(f"edit → pixels, {CASE_TITLES[case]}", f"{v:.1f} ms", f"≤ {limit:g} ms", v <= limit)
    for case in MPL_RATIO_CASES:
        ratio = cases.get(case, {}).get("mpl_ratio")
        if ratio is not None:
            add(f"matplotlib notebook / attnviz, {case}", f"{ratio:.1f}×", f"≥ {MPL_RATIO_TARGET:g}×",
                ratio >= MPL_RATIO_TARGET)
    for case, limit in TYPE_TARGET_MS.items():
        if case in cases and "type_to_pixels" in cases[case]:
            v = cases[case]["type_to_pixels"]["median_ms"]
            add(f"type → pixels, {CASE_TITLES[case]}", f"{v:.1f} ms", f"≤ {limit:g} ms", v <= limit)
    for case in CASES:
        burst = cases.get(case, {}).get("burst")
        if burst:
            c = burst["caused"]
            text = f"{c['recompute']} recompute; " + ", ".join(f"{k} {v}" for k, v in c.items() if k != "recompute")
            add(f"burst of {BURST}, {case}", text, "1 recompute, 1 redraw per shown panel", burst["exactly_one_each"])
    if "startup" in res:
        s = res["startup"]
        add("start → first frame / bare floor", f"{s['ratio']:.2f}× ({s['attnviz']['median_ms']:.0f} vs "
            f"{s['bare']['median_ms']:.0f} ms)", f"≤ {STARTUP_RATIO_TARGET:g}×", s["ratio"] <= STARTUP_RATIO_TARGET)
    table = cases.get(TABLE_CASE, {}).get("table")
    if table:
        add("512 × 512 table opens and scrolls without a stall", f"worst frame {table['worst_ms']:.0f} ms",
            f"every frame ≤ {STALL_MS:g} ms", table["no_stall"])
    for case, limit in RSS_TARGET_MB.items():
        if case in cases:
            v = cases[case]["peak_rss_mb"]
            add(f"peak RSS, {CASE_TITLES[case]}", f"{v:.0f} MB", f"≤ {limit:g} MB", v <= limit)
    return checks


def fmt(d: dict | None, key: str = "median_ms") -> str:
    if not d or key not in d:
        return "—"
    v = d[key]
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def ratio_budget_text(case: str, r: dict) -> str | None:
    """One line: the ratio target's time budget, minus the repaint alone, against what computing takes."""
    if "mpl" not in r or "repaint" not in r:
        return None
    budget = r["mpl"]["notebook"]["median_ms"] / MPL_RATIO_TARGET
    repaint, computing = r["repaint"]["median_ms"], r["computing"]["median_ms"]
    beside = r.get("edit_beside_repaint", {}).get("median_ms")
    edits = f" (the edits between the repaints: {beside:.1f} ms)" if beside else ""
    return (f"  {CASE_TITLES[case]}: {budget:.1f} ms at {MPL_RATIO_TARGET:g}×, of which the repaint alone takes "
            f"{repaint:.1f}: {budget - repaint:.1f} ms left; computing took {computing:.1f}{edits}. With nothing "
            f"computed the ratio would be {r['mpl']['notebook']['median_ms'] / repaint:.1f}×")


def table_text(res: dict) -> str:
    lines = []
    m = res["machine"]
    lines.append(f"attnviz benchmark, {m['date']}: {m['cpus']} × {m['cpu']}, Python {m['python']}, "
                 f"PySide6 {m['PySide6']}, pyqtgraph {m['pyqtgraph']}, numpy {m['numpy']}, "
                 f"matplotlib {m['matplotlib']}; offscreen {WINDOW_SIZE[0]}×{WINDOW_SIZE[1]}")
    lines.append("Times in ms, median / p90 (n = samples). RSS = peak resident memory of the case's process.")
    lines.append("'of which grab': the median of edit → pixels' final window.grab(); the rest is settling "
                 "(recompute, redraw, painting what changed).")
    lines.append("")
    head = ("case", "forward", "bare grab", "idle grab", "repaint", "edit→px", "of which grab", "target", "type→px",
            "mpl notebook", "mpl in place", "mpl/attnviz", "RSS MB")
    rows = [head]
    for case, r in res["cases"].items():
        if case == TABLE_CASE:
            continue
        e = r.get("edit_to_pixels")
        mpl = r.get("mpl", {})
        rows.append((
            CASE_TITLES[case],
            f"{fmt(r['forward'])} / {fmt(r['forward'], 'p90_ms')}",
            f"{fmt(r['bare_grab'])} / {fmt(r['bare_grab'], 'p90_ms')}",
            f"{fmt(r.get('idle_grab'))} / {fmt(r.get('idle_grab'), 'p90_ms')}",
            f"{fmt(r.get('repaint'))} / {fmt(r.get('repaint'), 'p90_ms')}",
            f"{fmt(e)} / {fmt(e, 'p90_ms')} (n={e['n'] if e else 0})",
            fmt(r.get("edit_grab_share")),
            f"≤ {EDIT_TARGET_MS[case]:g}",
            f"{fmt(r.get('type_to_pixels'))} / {fmt(r.get('type_to_pixels'), 'p90_ms')}",
            fmt(mpl.get("notebook")) + ("" if mpl.get("numbers_in_cells", True) else " ¹"),
            fmt(mpl.get("in_place")),
            (f"{r['mpl_ratio']:.1f}× / {r['mpl_ratio_in_place']:.1f}×" if "mpl_ratio" in r else "—"),
            f"{r['peak_rss_mb']:.0f}",
        ))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    for k, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    if any(not r.get("mpl", {}).get("numbers_in_cells", True) for r in res["cases"].values()):
        lines.append(f"¹ more than {MAX_NUMBERED} tokens: no numbers in the cells (attnviz does not print them either)")
    room = [line for case in MPL_RATIO_CASES if (line := ratio_budget_text(case, res["cases"].get(case, {})))]
    if room:
        lines.append("")
        lines.append(f"What {MPL_RATIO_TARGET:g}× matplotlib leaves for computing an edit, once its repaint is paid:")
        lines.extend(room)
    lines.append("")
    lines.append("Burst of 1000 setData in one event-loop turn (what it caused; panels off screen should be 0):")
    for case, r in res["cases"].items():
        b = r.get("burst")
        if b:
            caused = ", ".join(f"{k} {v}" + ("" if k == "recompute" or b["on_screen"].get(k) else " (off screen)")
                               for k, v in b["caused"].items())
            rest = ", ".join(f"{k} {v}" for k, v in b.get("after_pause", {}).items()) or "nothing"
            lines.append(f"  {CASE_TITLES[case]}: {caused}; calls {b['calls_ms']:.0f} ms, "
                         f"to pixels {b['to_pixels_ms']:.0f} ms; once the edits pause: {rest}")
    t = res["cases"].get(TABLE_CASE, {}).get("table")
    if t:
        lines.append("")
        lines.append(f"W_q table {t['rows']} × {t['cols']}: open tab {t['open_ms']:.0f} ms, scroll to corner "
                     f"{t['scroll_to_corner_ms']:.0f} ms, back {t['scroll_to_origin_ms']:.0f} ms, page scroll "
                     f"{fmt(t['page_scroll'])} / max {fmt(t['page_scroll'], 'max_ms')} ms, edit → pixels with the "
                     f"table shown {fmt(t['edit_visible_table'])} / {fmt(t['edit_visible_table'], 'p90_ms')} ms; "
                     f"peak RSS {res['cases'][TABLE_CASE]['peak_rss_mb']:.0f} MB")
    s = res.get("startup")
    if s:
        lines.append("")
        lines.append(f"Start → first frame (wall, n={s['attnviz']['n']}): attnviz --screenshot "
                     f"{fmt(s['attnviz'])} / {fmt(s['attnviz'], 'p90_ms')} ms (RSS {s['attnviz']['peak_rss_mb']:.0f}"
                     f" MB); bare PySide6 + pyqtgraph {fmt(s['bare'])} / {fmt(s['bare'], 'p90_ms')} ms (RSS "
                     f"{s['bare']['peak_rss_mb']:.0f} MB); ratio {s['ratio']:.2f}×")
        if "png_written_ms" in s["attnviz"]:  # (not in the JSON of earlier rounds)
            a, b = s["attnviz"]["png_written_ms"], s["bare"]["png_written_ms"]
            lines.append(f"  without the exit, the PNG written after (median): attnviz {a:.0f} ms, bare {b:.0f} ms;"
                         f" ratio {a / b:.2f}×")
    lines.append("")
    lines.append("Targets:")
    for c in res["targets"]:
        mark = "met " if c["met"] else "FAIL"
        lines.append(f"  [{mark}] {c['target']}: {c['value']} (target {c['limit']})")
    return "\n".join(lines)


def run_all(args: argparse.Namespace) -> dict:
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    complaint = unknown_case(cases, (*CASES, TABLE_CASE))
    if complaint:
        raise SystemExit(complaint)
    res: dict = {"machine": versions(), "window": list(WINDOW_SIZE), "cases": {}}
    started = time.perf_counter()
    for case in cases:
        say(args, f"case {case}: attnviz …")
        r = child_json(["--worker", case, "--edits", str(args.edits)], timeout=600)
        if case != TABLE_CASE and not args.skip_mpl:
            say(args, f"case {case}: matplotlib …")
            r["mpl"] = child_json(["--mpl", case, "--edits", str(args.edits)], timeout=600)
            attn = r["edit_to_pixels"]["median_ms"]
            r["mpl_ratio"] = r["mpl"]["notebook"]["median_ms"] / attn
            r["mpl_ratio_in_place"] = r["mpl"]["in_place"]["median_ms"] / attn
        res["cases"][case] = r
    if not args.skip_startup:
        say(args, "start → first frame …")
        res["startup"] = run_startup(STARTUP_RUNS)
    res["seconds"] = time.perf_counter() - started
    res["targets"] = evaluate(res)
    return res


def say(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text, file=sys.stderr, flush=True)


def run_profile(case: str, phase: str, edits: int, out: str | None) -> None:
    """Profile one phase of one case (pyinstrument if installed, else cProfile)."""
    setup_worker_process()
    h = Harness(make_document(case))
    if phase == "edit":
        time_edits(h, 3, 2, deadline=0)
    try:
        import pyinstrument
    except ImportError:
        pyinstrument = None
    profiler = pyinstrument.Profiler(interval=0.0005) if pyinstrument else None
    if profiler is None:
        import cProfile

        cprof = cProfile.Profile()
        cprof.enable()
    else:
        profiler.start()
    if phase == "edit":
        time_edits(h, edits, 0, deadline=time.perf_counter() + 60)
    elif phase == "type":
        time_typing(h, edits, 0, deadline=time.perf_counter() + 60)
    else:
        time_burst(h)
    if profiler is None:
        import pstats

        cprof.disable()
        pstats.Stats(cprof).sort_stats("cumulative").print_stats(40)
    else:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if out:
            Path(out).write_text(profiler.output_html(), encoding="utf-8")
    h.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    p.add_argument("--cases", default=",".join([*CASES, TABLE_CASE]), help="comma-separated cases to run")
    p.add_argument("--edits", type=int, default=EDITS, help=f"timed edits per case (≥ {MIN_EDITS})")
    p.add_argument("--skip-mpl", action="store_true", help="leave out the matplotlib comparison")
    p.add_argument("--skip-startup", action="store_true", help="leave out start → first frame")
    p.add_argument("--profile", metavar="CASE", help="profile one case instead of benchmarking")
    p.add_argument("--phase", choices=("edit", "type", "burst"), default="edit", help="what --profile profiles")
    p.add_argument("--profile-html", metavar="FILE", help="also write pyinstrument's HTML report")
    p.add_argument("--worker", metavar="CASE", help=argparse.SUPPRESS)
    p.add_argument("--mpl", metavar="CASE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.edits = max(args.edits, MIN_EDITS)
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.edits)))
        return 0
    if args.mpl:
        print(json.dumps(run_mpl(args.mpl, args.edits)))
        return 0
    if args.profile:
        run_profile(args.profile, args.phase, args.edits, args.profile_html)
        return 0
    res = run_all(args)
    print(json.dumps(res) if args.json else table_text(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
