"""The command line: ``compute`` and ``convert`` headless, ``--screenshot``, errors, clean exit.

Everything runs ``python -m attnviz`` in a fresh interpreter, as a user would.
``compute``'s numbers are checked against scaled dot-product attention written
here in NumPy from the formulas.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attnviz.engine import Config, Document
from attnviz.engine.weightsfile import load, save

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "small.json"
FORMATS = (".json", ".npz", ".safetensors")
ERROR_PREFIX = "attnviz: error: "


def env_for(qt: bool = True, display: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if qt:
        env["QT_QPA_PLATFORM"] = "offscreen"
    if not display:
        for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            env.pop(key, None)
    return env


def attnviz(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "attnviz", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env or env_for(), timeout=timeout)


def python(script: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 90):
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd,
                          env=env or env_for(), timeout=timeout)


# ---------------------------------------------------------------------------
# independent reference


def word_vector(word: str, d_model: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(word.lower().encode("utf-8"), digest_size=8).digest(), "little")
    return np.round(np.random.Generator(np.random.PCG64(seed)).standard_normal(d_model), 2)


def reference(doc: Document, tokens: list[str]) -> dict:
    """x = emb + PE; per head q, k, v, scores = q kᵀ, weights = softmax(scores/√d_k/T), out = weights v."""
    cfg = doc.config
    n, d = len(tokens), doc.embeddings.shape[1]
    emb = np.array([doc.embeddings[doc.vocab.index(t.lower())] if t.lower() in doc.vocab else word_vector(t, d)
                    for t in tokens]).reshape(n, d)
    pe = np.zeros((n, d))
    if cfg.positional_encoding == "sinusoidal":
        for p in range(n):
            for i in range(d):
                angle = p / 10000 ** ((i - i % 2) / d)
                pe[p, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    x = emb + pe
    heads = []
    for h in range(doc.W_q.shape[0]):
        q, k, v = x @ doc.W_q[h], x @ doc.W_k[h], x @ doc.W_v[h]
        scores = q @ k.T
        logits = scores / (math.sqrt(q.shape[1]) if cfg.scale else 1.0) / cfg.temperature
        if cfg.causal:
            logits[np.triu_indices(n, 1)] = -np.inf
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights = e / e.sum(axis=1, keepdims=True)
        heads.append({"q": q, "k": k, "v": v, "scores": scores, "weights": weights, "output": weights @ v})
    y = np.hstack([hd["output"] for hd in heads])
    if doc.W_o is not None:
        y = y @ doc.W_o
    if cfg.residual:
        y = y + x
    return {"x": x, "heads": heads, "output": y}


def check_against_reference(out: dict, doc: Document, tokens: list[str], tol: float = 1e-6) -> None:
    assert out["tokens"] == tokens
    ref = reference(doc, tokens)
    assert set(out) == {"tokens", "x", "heads", "output"}
    np.testing.assert_allclose(np.array(out["x"]), ref["x"], rtol=tol, atol=tol)
    assert len(out["heads"]) == len(ref["heads"])
    for got, want in zip(out["heads"], ref["heads"], strict=True):
        assert set(got) == {"q", "k", "v", "scores", "weights", "output"}
        for key, value in want.items():
            a = np.array(got[key], dtype=float)
            assert a.shape == value.shape, key
            np.testing.assert_allclose(a, value, rtol=tol, atol=tol, err_msg=key)
        np.testing.assert_allclose(np.array(got["weights"]).sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(out["output"]), ref["output"], rtol=tol, atol=tol)


WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "far", "away", "home"]


def random_document(seed: int) -> Document:
    rng = np.random.default_rng(seed)
    d_model, heads, d_k, d_v = (int(rng.integers(1, 6)) for _ in range(4))
    vocab = tuple(rng.choice(WORDS, size=int(rng.integers(1, 7)), replace=False))
    has_w_o = bool(rng.integers(2))
    d_out = d_model  # W_o maps back to d_model
    if seed % 3 == 0:  # make residual possible
        has_w_o = True
    width = d_out if has_w_o else heads * d_v
    cfg = Config(scale=bool(rng.integers(2)), causal=bool(seed % 2), temperature=float(rng.choice([0.5, 1.0, 2.0])),
                 positional_encoding=str(rng.choice(["sinusoidal", "none"])), residual=width == d_model)
    # a sentence of vocabulary words, one unknown word, mixed case
    words = [str(w) for w in rng.choice([*vocab, "zebra"], size=int(rng.integers(1, 7)))]
    sentence = " ".join(w.capitalize() if i % 2 else w for i, w in enumerate(words))
    return Document(
        vocab=vocab,
        embeddings=rng.normal(0, 1, (len(vocab), d_model)),
        W_q=rng.normal(0, 1, (heads, d_model, d_k)),
        W_k=rng.normal(0, 1, (heads, d_model, d_k)),
        W_v=rng.normal(0, 1, (heads, d_model, d_v)),
        W_o=rng.normal(0, 1, (heads * d_v, d_out)) if has_w_o else None,
        config=cfg,
        sentence=sentence,
    )


def compute(path: Path, *extra: str) -> dict:
    proc = attnviz("compute", path, *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------
# compute


def test_compute_small_file_matches_reference():
    doc = load(SMALL)
    assert doc.n_heads == 2 and doc.d_model == 3 and doc.W_o is not None
    out = compute(SMALL)
    check_against_reference(out, doc, ["I", "like", "green", "tea"])
    # residual on: the output is W_o-projected heads plus x, 3 wide
    assert np.array(out["output"]).shape == (4, 3)


def test_compute_sentence_option_overrides_file_sentence():
    doc = load(SMALL)
    out = compute(SMALL, "--sentence", "Tea like ZEBRA i")
    check_against_reference(out, doc, ["Tea", "like", "ZEBRA", "i"])
    default = compute(SMALL)
    assert default["tokens"] == ["I", "like", "green", "tea"]
    assert default != out


def test_compute_empty_sentence():
    out = compute(SMALL, "--sentence", "")
    assert out["tokens"] == [] and out["x"] == [] and out["output"] == []
    assert [h["weights"] for h in out["heads"]] == [[], []]


def test_compute_takes_a_file_past_what_the_window_shows_and_the_window_names_why_not(tmp_path):
    """5000 columns are past the window's tables (4096), not past the engine: compute works, the window says why not."""
    w = np.zeros((1, 5000, 1))
    path = tmp_path / "wide.npz"
    save(Document(vocab=("a",), embeddings=np.zeros((1, 5000)), W_q=w, W_k=w, W_v=w, sentence="a a"), path)
    out = compute(path)
    assert out["tokens"] == ["a", "a"] and len(out["x"][0]) == 5000
    proc = attnviz(path, "--screenshot", tmp_path / "wide.png", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # named as the window's Open names it
    assert proc.stderr.strip() == f"{ERROR_PREFIX}wide.npz: d_model is 5,000; the window works with at most 4,096 " \
        "(attnviz compute and convert take any size)"


@pytest.mark.parametrize("seed", range(6))
def test_compute_random_documents_in_every_format(tmp_path, seed):
    doc = random_document(seed)
    outputs = []
    for suffix in FORMATS:
        path = tmp_path / f"doc{seed}{suffix}"
        save(doc, path)
        out = compute(path)
        check_against_reference(out, doc, doc.sentence.split())
        outputs.append(out)
        if doc.config.causal:
            for head in out["heads"]:
                w = np.array(head["weights"])
                n = w.shape[0]
                assert all(w[i, j] == 0.0 for i in range(n) for j in range(i + 1, n))
                assert all(w[i, 0] > 0 for i in range(n)) or n == 0
    assert outputs[0] == outputs[1] == outputs[2]  # the three formats hold the same numbers


def test_causal_masks_exactly(tmp_path):
    doc = load(SMALL)
    path = tmp_path / "causal.json"
    save(doc.replace(config=Config(causal=True, temperature=0.8, residual=True)), path)
    tokens = ["tea", "tea", "green", "like", "i", "i"]
    out = compute(path, "--sentence", " ".join(tokens))
    check_against_reference(out, load(path), tokens)
    for head in out["heads"]:
        w = np.array(head["weights"])
        assert np.all(w[np.triu_indices(6, 1)] == 0.0)
        assert w[0, 0] == 1.0
        assert np.all(w[np.tril_indices(6)] > 0)


def test_compute_and_convert_do_not_import_qt(tmp_path):
    script = f"""
import contextlib, io, json, sys
from attnviz.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    code = main(["compute", {str(SMALL)!r}, "--sentence", "green tea"])
assert code == 0, code
assert json.loads(buf.getvalue())["tokens"] == ["green", "tea"]
assert main(["convert", {str(SMALL)!r}, {str(tmp_path / "x.npz")!r}]) == 0
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))
print("QT", qt)
"""
    proc = python(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "QT []"
    assert (tmp_path / "x.npz").exists()


# ---------------------------------------------------------------------------
# convert


@pytest.mark.parametrize(("src", "dst"), [(".json", ".npz"), (".json", ".safetensors"), (".npz", ".safetensors"),
                                          (".safetensors", ".json")])
def test_convert_is_bit_exact_and_computes_the_same(tmp_path, src, dst):
    doc = random_document(3).replace(embeddings=random_document(3).embeddings * (1 / 3))  # non-short floats
    a, b = tmp_path / f"a{src}", tmp_path / f"b{dst}"
    save(doc, a)
    proc = attnviz("convert", a, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert load(b).equals(load(a)) and load(b).equals(doc)
    assert attnviz("compute", a).stdout == attnviz("compute", b).stdout


def test_convert_small_file_round_trip(tmp_path):
    npz, back = tmp_path / "small.npz", tmp_path / "back.json"
    assert attnviz("convert", SMALL, npz).returncode == 0
    assert attnviz("convert", npz, back).returncode == 0
    assert load(back).equals(load(SMALL))
    assert compute(npz) == compute(SMALL) == compute(back)


# ---------------------------------------------------------------------------
# bad input: exit 2, one line, no traceback


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _small_with(**changes) -> str:
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data)


def _overflowing(path: Path) -> Path:
    """Finite weights whose scores overflow: q = [1e400 → inf, 0] for "a" meets k = [−1e200, 0] (−∞) and
    [0, 1] (inf · 0 = NaN), so the weights of "a" are NaN."""
    doc = Document(vocab=("a", "b"), embeddings=[[1e200, 0.0], [0.0, 1.0]], W_q=[[[1e200, 0.0], [0.0, 1.0]]],
                   W_k=[[[-1.0, 0.0], [0.0, 1.0]]], W_v=[[[1.0, 0.0], [0.0, 1.0]]],
                   config=Config(positional_encoding="none"), sentence="a b")
    save(doc, path)
    return path


def _wide(path: Path) -> Path:
    """5000 columns: past what the window shows (4096), not past the engine."""
    w = np.zeros((1, 5000, 1))
    save(Document(vocab=("a",), embeddings=np.zeros((1, 5000)), W_q=w, W_k=w, W_v=w, sentence="a a"), path)
    return path


BAD = {
    "missing file": (lambda d: ["compute", d / "nope.json"], "no such file"),
    "bad json": (lambda d: ["compute", _write(d / "bad.json", '{"vocab": [')], "not valid JSON"),
    "wrong shapes": (lambda d: ["compute", _write(d / "shape.json", _small_with(W_k=[[[1.0], [0.0], [0.0]]]))],
                     "W_k"),
    "nan": (lambda d: ["compute", _write(d / "nan.json", _small_with().replace("0.125", "NaN"))], "NaN"),
    "unknown format": (lambda d: ["compute", _write(d / "w.txt", SMALL.read_text())], "unknown file type"),
    "temperature 0": (lambda d: ["compute", _write(d / "t.json", _small_with(config={"temperature": 0}))],
                      "temperature"),
    "unknown option": (lambda d: ["compute", SMALL, "--bogus"], "--bogus"),
    "compute without file": (lambda d: ["compute"], "file"),
    "bad size": (lambda d: ["--size", "huge", "--screenshot", d / "x.png"], "size"),
    "screenshot txt": (lambda d: ["--screenshot", d / "x.txt"], ".png"),
    "empty screenshot name": (lambda d: ["--screenshot", ""], ".png"),
    "convert unknown extension": (lambda d: ["convert", SMALL, d / "out.xyz"], ".xyz"),
    "unknown example": (lambda d: ["--example", "nope"], "nope"),
    "file and example": (lambda d: [SMALL, "--example", "pizza", "--screenshot", d / "y.png"], "not both"),
    "folder": (lambda d: ["compute", d], "folder"),
    "empty file": (lambda d: ["compute", _write(d / "empty.json", "")], "empty"),
    "missing key": (lambda d: ["compute", _write(d / "mk.json", '{"vocab": [], "embeddings": []}')], "W_q"),
    "garbage npz": (lambda d: ["compute", _write(d / "g.npz", b"not a zip at all")], "npz"),
    "convert missing input": (lambda d: ["convert", d / "absent.npz", d / "out.json"], "no such file"),
    "unknown gui option": (lambda d: ["--frobnicate"], "--frobnicate"),
    "gui missing file": (lambda d: [d / "gone.json"], "no such file"),
    "residual mismatch": (lambda d: ["compute", _write(d / "r.json", _small_with(W_o=None))], "residual"),
    "convert too few args": (lambda d: ["convert", SMALL], "output"),
    "lone surrogate in the file's sentence": (
        lambda d: ["compute", _write(d / "s.json", _small_with(sentence="tea \ud83d"))], "U+D83D"),
    # bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape)
    "undecodable --sentence": (lambda d: ["compute", SMALL, "--sentence", "caf\udcff"], "U+DCFF"),
    "past the window, named with a newline": (lambda d: [_wide(d / "wi\nde.npz"), "--screenshot", d / "x.png"],
                                              "wi de.npz: d_model is 5,000"),
    "scores that overflow": (lambda d: ["compute", _overflowing(d / "big.json")],
                             "the similarity scores overflow a 64-bit float"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line(tmp_path, case):
    make_args, needle = BAD[case]
    proc = attnviz(*make_args(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    assert needle.lower() in lines[0].lower(), lines[0]
    assert proc.stdout == ""
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "out.json").exists()


def test_failed_convert_leaves_no_output(tmp_path):
    out = tmp_path / "out.npz"
    proc = attnviz("convert", _write(tmp_path / "nan.json", _small_with().replace("0.125", "NaN")), out)
    assert proc.returncode == 2 and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["nan.json"]


def test_no_display_is_a_one_line_error(tmp_path):
    proc = attnviz(cwd=tmp_path, env=env_for(qt=False, display=False))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX) and "display" in lines[0]
    assert "Traceback" not in proc.stderr


def test_a_screenshot_needs_no_display_even_with_the_platform_set_empty(tmp_path):
    """Qt reads an empty QT_QPA_PLATFORM as unset and went for a window system that was not there:
    the process aborted instead of drawing offscreen."""
    env = env_for(qt=False, display=False) | {"QT_QPA_PLATFORM": "", "XDG_CONFIG_HOME": str(tmp_path)}
    out = tmp_path / "x.png"
    proc = attnviz("--screenshot", out, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    width, height, colours = _png_facts(out)
    assert (width, height) == (1280, 800) and colours > 50


def test_version():
    proc = attnviz("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "attnviz 0.1.0"


# ---------------------------------------------------------------------------
# the window


def _png_facts(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours), read in a fresh interpreter with QImage."""
    script = f"""
from PySide6.QtGui import QImage
import numpy as np
im = QImage({str(path)!r})
assert not im.isNull()
im = im.convertToFormat(QImage.Format.Format_RGB32)
a = np.frombuffer(im.constBits(), dtype=np.uint32, count=im.sizeInBytes() // 4)
a = a.reshape(im.height(), im.bytesPerLine() // 4)[:, :im.width()]
print(im.width(), im.height(), len(np.unique(a)))
"""
    proc = python(script, path.parent)
    assert proc.returncode == 0, proc.stderr
    w, h, n = proc.stdout.split()
    return int(w), int(h), int(n)


@pytest.mark.parametrize(("args", "size"), [((), (1280, 800)), (("--size", "800x600", "--example", "pizza"),
                                                                 (800, 600))])
def test_screenshot_writes_a_png(tmp_path, args, size):
    out = tmp_path / "out.png"
    proc = attnviz("--screenshot", out, *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Fatal" not in proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, colours = _png_facts(out)
    assert (width, height) == size
    assert colours > 50


def test_screenshot_of_a_file_with_sentence(tmp_path):
    out = tmp_path / "small.png"
    proc = attnviz(SMALL, "--sentence", "tea tea green", "--screenshot", out, "--size", "900x700", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    width, height, colours = _png_facts(out)
    assert (width, height) == (900, 700) and colours > 50


def test_a_screenshot_of_a_file_whose_weights_come_out_nan_shows_them(tmp_path):
    # the bar chart's numbers stood at NaN heights, and Qt's painter crashed the process on them
    out = tmp_path / "big.png"
    proc = attnviz(_overflowing(tmp_path / "big.json"), "--screenshot", out, cwd=tmp_path)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert proc.stderr == ""
    assert _png_facts(out)[2] > 50


def test_window_opens_edits_and_exits_cleanly(tmp_path):
    script = """
import sys
from attnviz.gui.app import application
from attnviz.gui.main_window import MainWindow
app = application()
window = MainWindow()
window.resize(1000, 700)
window.show()
app.processEvents()
m = window.model
count = m.recompute_count
m.set_cell("W_q", 0, 0, 0, 2.5)
m.set_cell("W_k", 0, 1, 1, -1.25)
m.set_cell("embeddings", -1, 0, 0, 0.75)
m.set_sentence("Let's go go")
for _ in range(5):
    app.processEvents()
assert m.recompute_count == count + 1, (m.recompute_count, count)
assert m.result.tokens == ("Let's", "go", "go")
m.undo_stack.setClean()
window.close()
app.processEvents()
print("closed")
app.quit()
sys.exit(0)
"""
    proc = python(script, tmp_path, env=env_for() | {"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert proc.stdout.strip() == "closed"
    assert "Fatal" not in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# bugs found while writing these tests, now fixed


def test_a_window_left_alive_with_unsaved_edits_exits_without_a_traceback(tmp_path):
    """A script that never closes its window: the dying undo stack must not reach a dead window."""
    script = """
from attnviz.gui.app import application
from attnviz.gui.main_window import MainWindow
app = application()
window = MainWindow(use_settings=False)
window.show()
window.model.set_cell("W_q", 0, 0, 0, 2.5)
app.processEvents()
print("unclean" if not window.model.undo_stack.isClean() else "clean")
"""
    proc = python(script, tmp_path, env=env_for() | {"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert proc.stdout.strip() == "unclean"
    assert "Traceback" not in proc.stderr and "already deleted" not in proc.stderr, proc.stderr


def test_huge_screenshot_size_is_a_clean_error(tmp_path):
    proc = attnviz("--screenshot", tmp_path / "big.png", "--size", "99999x99999", cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-300:])
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith(ERROR_PREFIX)


def test_small_screenshot_size_is_respected_or_refused(tmp_path):
    out = tmp_path / "small.png"
    proc = attnviz("--screenshot", out, "--size", "640x480", cwd=tmp_path)
    if proc.returncode == 2:
        assert proc.stderr.startswith(ERROR_PREFIX) and len(proc.stderr.splitlines()) == 1
        return
    assert proc.returncode == 0, proc.stderr
    assert _png_facts(out)[:2] == (640, 480)


def test_unwritable_screenshot_is_one_line(tmp_path):
    proc = attnviz("--screenshot", tmp_path / "missing-folder" / "x.png", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), lines
    assert "x.png" in lines[0] and "No such file or directory" in lines[0]  # the reason, not only the failure


START_UP_OBJECTS = """
import gc, sys
from PySide6.QtWidgets import QApplication

seen = []

def exec_(app):  # the event loop, as the window starts it: note the collector's state, and return
    seen.append((gc.isenabled(), gc.get_freeze_count()))
    return 0

QApplication.exec = exec_
from attnviz.cli import main
code = main([])
print((code, seen, gc.isenabled()))
"""


def test_the_window_starts_with_the_collector_on_and_start_ups_objects_frozen(tmp_path):
    """Start-up's ≈ 75 000 lasting objects are made with the collector paused, then frozen: the
    collector does not go through them again at every full collection, nor at the exit."""
    env = env_for() | {"XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", START_UP_OBJECTS], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    code, ((enabled, frozen),), after = ast.literal_eval(proc.stdout)
    assert code == 0 and enabled and after
    assert frozen > 50_000


COLLECTOR_OFF_BEFORE = """
import gc, sys
gc.disable()
from attnviz.cli import main
code = main(["--screenshot", sys.argv[1]])
print((code, gc.isenabled(), gc.get_freeze_count()))
"""


def test_a_caller_whose_collector_is_off_keeps_it_off_and_nothing_frozen(tmp_path):
    """The start-up's pause is attnviz's own: a caller that turned the collector off (as the GUI
    tests' fixture does) found it on again after main(), and its own garbage frozen for good."""
    env = env_for() | {"XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", COLLECTOR_OFF_BEFORE, str(tmp_path / "x.png")], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert ast.literal_eval(proc.stdout) == (0, False, 0)


BUG_IN_A_PAINT = """
import sys
from attnviz.gui import time_label
from attnviz.gui.app import run

def paint(self, event):
    raise RuntimeError("a bug in a paint")

time_label.TimeLabel.paintEvent = paint
sys.exit(run(screenshot=sys.argv[1]))
"""


def a_bug_in_a_paint(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = env_for() | {"XDG_CONFIG_HOME": str(tmp_path), "TMPDIR": str(tmp_path), "USER": "someone"}
    return subprocess.run([sys.executable, "-c", BUG_IN_A_PAINT, str(tmp_path / "x.png")], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)


def test_a_bug_during_a_screenshot_exits_1_with_one_line_and_no_dialog(tmp_path):
    """No one is there to close an error dialog: it would wait for ever (it did)."""
    proc = a_bug_in_a_paint(tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    log = tmp_path / "attnviz-error-someone.log"  # the user's own: a shared temporary folder holds others'
    # (PySide puts "Error calling Python override of QLabel::paintEvent(): " first, on the same line)
    assert line.endswith(f"attnviz: error: Unexpected error: RuntimeError: a bug in a paint. "
                         f"Details were written to {log}."), line
    assert "RuntimeError: a bug in a paint" in log.read_text(encoding="utf-8")


def test_a_crash_log_that_cannot_be_written_does_not_stop_the_report(tmp_path):
    (tmp_path / "attnviz-error-someone.log").mkdir()  # there, and not a file attnviz may write
    proc = a_bug_in_a_paint(tmp_path)
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.splitlines()
    written = line.removesuffix(".").split("Details were written to ")[1]
    assert Path(written).parent == tmp_path and Path(written).name.startswith("attnviz-error-")
    assert "RuntimeError: a bug in a paint" in Path(written).read_text(encoding="utf-8")


HALF_TYPED = """
import sys
from PySide6.QtTest import QTest
from attnviz.gui.app import application
from attnviz.gui.main_window import MainWindow
app = application()
w = MainWindow(use_settings=False)
w.show()
app.processEvents()
box = w.dimensions.d_model if sys.argv[1] == "d_model" else w.options.temperature
box.setFocus()
box.selectAll()
QTest.keyClicks(box.lineEdit(), "abc")  # no Enter: still being typed when Python exits
w.model.undo_stack.setClean()
"""


@pytest.mark.parametrize("box", ["d_model", "temperature"])
def test_a_number_left_half_typed_at_exit_prints_nothing(tmp_path, box):
    """Qt checks the box's text once more as the window goes; the message went to a window already deleted."""
    env = env_for() | {"XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", HALF_TYPED, box], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


POOLED_THREADS = """
import os, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QScrollBar
if sys.argv[1] == "attnviz":
    from attnviz.gui.app import application
    from attnviz.gui.main_window import MainWindow
    app = application()
    window = MainWindow(use_settings=False)
else:
    app = QApplication([])
    window = QScrollBar()
window.resize(900, 700)
window.show()
app.processEvents()
window.grab()
names = [Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")]
print(sum(name == "Thread (pooled)" for name in names))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc")
def test_the_window_paints_without_qts_gui_thread_pool(tmp_path):
    """Qt hands tall fills to helper threads; attnviz turns that off (see application())."""
    env = env_for() | {"XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("QT_NO_GUI_THREADPOOL", None)

    def pooled(kind: str) -> int:
        proc = subprocess.run([sys.executable, "-c", POOLED_THREADS, kind], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=90)
        assert proc.returncode == 0, proc.stderr
        return int(proc.stdout)

    if pooled("bare") == 0:
        pytest.skip("this Qt paints a bare scroll bar without its thread pool: nothing to turn off")
    assert pooled("attnviz") == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_compute_onto_a_full_disk_says_so_in_one_line(tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "attnviz", "compute", str(SMALL)], stdout=full,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env_for(qt=False), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == f"{ERROR_PREFIX}cannot write the output: No space left on device\n"
