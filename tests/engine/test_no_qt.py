"""The engine must not pull in Qt: it is meant for scripts and notebooks too.

Checked in a fresh interpreter, because this test process has very likely
imported PySide6 already (pytest-qt, the GUI tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")

# Imports attnviz.engine and every module under it, runs a forward pass, then prints
# the imported module names as JSON on the last line. ``PRELUDE`` runs first.
SCRIPT = """
import importlib, json, pkgutil, sys
{prelude}
import attnviz.engine
names = sorted(m.name for m in pkgutil.walk_packages(attnviz.engine.__path__, "attnviz.engine."))
for name in names:
    importlib.import_module(name)
from attnviz.engine import Config, Document, forward
doc = Document(vocab=("a", "b"), embeddings=[[1.0, 0.0], [0.0, 1.0]], W_q=[[[1.0], [0.0]]],
               W_k=[[[1.0], [0.0]]], W_v=[[[1.0, 0.0], [0.0, 1.0]]], config=Config(causal=True),
               sentence="a b zebra")
r = forward(doc)
assert r.output.shape == (3, 2), r.output.shape
print(json.dumps({{"engine_modules": names, "loaded": sorted(sys.modules)}}))
"""

ROOT = Path(__file__).resolve().parents[2]


def run_engine_in_fresh_interpreter(prelude: str = "") -> dict:
    """``prelude`` is for checking the detector by hand, e.g. ``prelude="import PySide6.QtCore"`` must fail."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(prelude=prelude)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def qt_modules(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m.split(".")[0] in QT_PREFIXES or m.startswith(QT_PREFIXES)]


def test_engine_imports_no_qt():
    result = run_engine_in_fresh_interpreter()
    # every module of the package was found and imported (so a new module is covered automatically)
    expected = {f"attnviz.engine.{p.stem}" for p in (ROOT / "attnviz" / "engine").glob("*.py") if p.stem != "__init__"}
    assert expected <= set(result["engine_modules"]), expected - set(result["engine_modules"])
    assert set(result["engine_modules"]) <= set(result["loaded"])
    assert qt_modules(result["loaded"]) == []

