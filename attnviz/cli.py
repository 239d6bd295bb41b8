"""Command line: ``attnviz [FILE]`` opens the window; ``compute`` and ``convert`` run headless.

Every bad input ends with exit code 2 and one line on stderr,
``attnviz: error: <what is wrong>``. Qt is imported only for the window, so
the headless commands start fast and work without a display.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

import numpy as np

from attnviz import __version__
from attnviz.engine import AttnvizError, forward
from attnviz.engine.examples import EXAMPLES

HEADLESS = ("compute", "convert")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"attnviz: error: {message}", file=sys.stderr)
    raise SystemExit(code)


MIN_SIZE, MAX_SIZE = (800, 600), (7680, 4320)


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,6})[xX×](\d{1,6})", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, got {text!r}")
    w, h = int(m[1]), int(m[2])
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(
            f"size must be from {MIN_SIZE[0]}x{MIN_SIZE[1]} to {MAX_SIZE[0]}x{MAX_SIZE[1]}, got {text!r}"
        )
    return w, h


def gui_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="attnviz",
        description="Explore self-attention: edit any weight and watch every step follow. "
        f"Headless commands: {', '.join(HEADLESS)} (see `attnviz compute -h`).",
    )
    p.add_argument("file", nargs="?", help="weights file to open (.json, .npz or .safetensors)")
    p.add_argument("--example", choices=list(EXAMPLES), help="open a bundled example instead of FILE")
    p.add_argument("--sentence", help="sentence to show instead of the file's own")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    p.add_argument("--size", type=_size, default=(1280, 800), help="window size, e.g. 1280x800 (default)")
    p.add_argument("--version", action="version", version=f"attnviz {__version__}")
    return p


def headless_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="attnviz")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compute", help="print the whole attention pass as JSON")
    c.add_argument("file", help="weights file (.json, .npz or .safetensors)")
    c.add_argument("--sentence", help="sentence to run (default: the one stored in the file)")
    v = sub.add_parser("convert", help="convert a weights file to another format, chosen by extension")
    v.add_argument("input")
    v.add_argument("output")
    return p


def compute_json(path: str, sentence: str | None) -> str:
    """The pass as JSON: tokens, x, per-head q/k/v/scores/weights/output, output."""
    from attnviz.engine.weightsfile import load

    with np.errstate(all="ignore"):  # an overflow is reported next, in one line
        r = forward(load(path), sentence)
    overflow = r.overflow()
    if overflow:
        raise AttnvizError(f"{path}: the weights are so large that the {overflow} overflow a 64-bit float")
    heads = [
        {name: getattr(r, attr)[h].tolist() for name, attr in
         (("q", "q"), ("k", "k"), ("v", "v"), ("scores", "scores"), ("weights", "weights"), ("output", "heads"))}
        for h in range(r.n_heads)
    ]
    out = {"tokens": list(r.tokens), "x": r.x.tolist(), "heads": heads, "output": r.output.tolist()}
    return json.dumps(out)


def convert(src: str, dst: str) -> None:
    from attnviz.engine.weightsfile import load, save

    save(load(src), dst)


def run_headless(argv: Sequence[str]) -> int:
    args = headless_parser().parse_args(argv)
    if args.command == "compute":
        text = compute_json(args.file, args.sentence)
        try:
            print(text, flush=True)  # flushed here: a full disk must fail here, not at exit
        except BrokenPipeError:
            raise
        except OSError as e:
            raise AttnvizError(f"cannot write the output: {e.strerror or e}") from None
    else:
        convert(args.input, args.output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in HEADLESS:
            return run_headless(argv)
        args = gui_parser().parse_args(argv)
        if args.file and args.example:
            fail("give a FILE or --example, not both")
        pause = gc.isenabled()  # (a caller that turned it off for itself keeps it off)
        if pause:
            gc.disable()  # until the window is made: see attnviz.gui.app.keep_start_up_objects
        try:
            from attnviz.gui.app import run

            return run(file=args.file, example=args.example, sentence=args.sentence,
                       screenshot=args.screenshot, size=args.size, collector_paused=pause)
        finally:
            if pause:
                gc.enable()
    except AttnvizError as e:
        fail(str(e))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
