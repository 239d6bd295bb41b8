"""The resources ship in a real, non-editable install.

Slow-ish (about 15–40 s: a wheel build that fetches hatchling into pip's
isolated build environment, a venv and an install), but part of the normal
suite: a source checkout finds ``resources/`` next to the package, so only an
installed wheel shows whether the examples and the primer were packaged.

The wheel is built once per module with ``pip wheel . --no-deps`` and
installed with ``--no-index --no-deps`` into a venv made with
``--system-site-packages`` (numpy and friends come from the running
interpreter). Everything that imports the installed package runs from a
working directory outside the repository, with PYTHONPATH cleared, so the
checkout cannot shadow it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("lets-go", "pizza", "two-heads")
RESOURCES = (
    *(f"attnviz/resources/examples/{name}.json" for name in EXAMPLES),
    "attnviz/resources/primer/primer.html",
)
NETWORK_TROUBLE = (
    "Could not find a version that satisfies the requirement",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ProxyError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Max retries exceeded",
)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that could put the checkout on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONIOENCODING="utf-8", **extra)
    return env


def _run(args: list[str | Path], cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_clean_env(**env), capture_output=True, text=True, timeout=timeout
    )


def _explain(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", out], cwd=ROOT, timeout=300)
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        if any(marker in text for marker in NETWORK_TROUBLE):
            pytest.skip(f"cannot build the wheel without network access (hatchling comes from PyPI):\n{_explain(proc)}")
        pytest.fail(f"`pip wheel .` failed:\n{_explain(proc)}")
    wheels = sorted(out.glob("attnviz-*.whl"))
    assert len(wheels) == 1, f"expected one attnviz wheel in {out}, found {[p.name for p in out.iterdir()]}"
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; the running interpreter's packages are visible, the checkout is not."""
    where = tmp_path_factory.mktemp("install")
    env_dir = where / "venv"
    # no pip of its own: the system site-packages' pip installs into the venv's prefix
    proc = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", env_dir], cwd=where)
    assert proc.returncode == 0, _explain(proc)
    python = _venv_bin(env_dir, "python")
    # --ignore-installed: the running interpreter may hold attnviz itself; never touch it
    proc = _run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel],
        cwd=where,
        timeout=180,
    )
    assert proc.returncode == 0, f"installing {wheel.name} failed:\n{_explain(proc)}"
    return env_dir


def _venv_bin(env_dir: Path, name: str) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / f"{name}.exe"
    return env_dir / "bin" / name


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_wheel_holds_every_module_and_resource(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "attnviz").rglob("*.py")}
        assert modules, "no modules found in the checkout"
        assert not modules - names, f"modules missing from {wheel.name}: {sorted(modules - names)}"
        missing = [r for r in RESOURCES if r not in names]
        assert not missing, f"resources missing from {wheel.name}: {missing}"
        for resource in RESOURCES:  # shipped as they are in the checkout
            source = ROOT / "resources" / resource.removeprefix("attnviz/resources/")
            assert z.read(resource) == source.read_bytes(), resource
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "attnviz = attnviz.cli:main" in z.read(entry_points).decode()
    assert not any(n.startswith(("tests/", "resources/")) for n in names), "test or top-level files in the wheel"


CHECK_INSTALLED = textwrap.dedent(
    """
    import json, sys
    import attnviz
    from attnviz.engine import forward
    from attnviz.engine.examples import EXAMPLES, example_path, load_example
    from attnviz.resources_path import resource_path

    examples = {}
    for name in EXAMPLES:
        r = forward(load_example(name))
        examples[name] = {
            "path": str(example_path(name)),
            "tokens": list(r.tokens),
            "weights_shape": list(r.weights.shape),
            "row_sums": r.weights.sum(axis=-1).ravel().tolist(),
        }
    primer = resource_path("primer", "primer.html")
    print(json.dumps({
        "file": attnviz.__file__,
        "sys_path": sys.path,
        "examples": examples,
        "primer_path": str(primer),
        "primer_chars": len(primer.read_text(encoding="utf-8")),
    }))
    """
)


@pytest.fixture(scope="module")
def installed(venv, tmp_path_factory) -> dict:
    """What the installed package reports about itself, run from outside the checkout."""
    cwd = tmp_path_factory.mktemp("outside")
    script = cwd / "check_installed.py"
    script.write_text(CHECK_INSTALLED, encoding="utf-8")
    proc = _run([_venv_bin(venv, "python"), script], cwd=cwd, timeout=60)
    assert proc.returncode == 0, _explain(proc)
    return json.loads(proc.stdout)


def test_installed_package_is_imported_from_the_venv(installed, venv):
    assert _inside(installed["file"], venv), f"attnviz imported from {installed['file']}, not from {venv}"
    assert not _inside(installed["file"], ROOT), installed["file"]


def test_installed_examples_load_and_run(installed, venv):
    assert set(installed["examples"]) == set(EXAMPLES)
    for name, info in installed["examples"].items():
        assert _inside(info["path"], venv), f"{name} read from {info['path']}, not from the venv"
        assert info["tokens"], name
        heads, n, n2 = info["weights_shape"]
        assert heads >= 1 and n == n2 == len(info["tokens"]), (name, info["weights_shape"])
        assert all(abs(s - 1) < 1e-12 for s in info["row_sums"]), name
    assert installed["examples"]["lets-go"]["tokens"] == ["Let's", "go"]


def test_installed_primer_comes_from_the_venv(installed, venv):
    assert _inside(installed["primer_path"], venv), f"primer read from {installed['primer_path']}"
    source = (ROOT / "resources" / "primer" / "primer.html").read_text(encoding="utf-8")
    assert installed["primer_chars"] == len(source)


def test_installed_console_script_computes(installed, venv, tmp_path):
    example = installed["examples"]["lets-go"]["path"]
    proc = _run([_venv_bin(venv, "attnviz"), "compute", example], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, _explain(proc)
    out = json.loads(proc.stdout)
    assert out["tokens"] == ["Let's", "go"]
    assert len(out["heads"]) == 1 and len(out["output"]) == 2
    for row in out["heads"][0]["weights"]:
        assert abs(sum(row) - 1) < 1e-12
