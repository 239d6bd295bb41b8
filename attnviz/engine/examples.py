"""The bundled example weights files, small enough to follow by hand.

They live in the repository's top-level ``resources/examples/``; the wheel
ships that folder as ``attnviz/resources`` (see pyproject.toml). So we look
inside the installed package first and fall back to the source checkout.
docs/file-format.md explains how each example's numbers were chosen.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable

from attnviz.engine import weightsfile
from attnviz.engine.document import Document
from attnviz.engine.errors import AttnvizError
from attnviz.resources_path import resource_path

EXAMPLES: dict[str, str] = {
    "lets-go": "Let's go: one head, two words, every step by hand",
    "pizza": "Pizza: what does \"it\" refer to?",
    "two-heads": "Two heads: previous word and same word",
}


def examples_folder() -> Traversable:
    """Where the example files are: the installed package, else the source checkout."""
    return resource_path("examples")


def example_path(name: str) -> Traversable:
    """The file of example ``name`` (a Path when not installed from a zip)."""
    if name not in EXAMPLES:
        raise AttnvizError(f"unknown example {name!r}; the examples are {', '.join(EXAMPLES)}")
    return examples_folder() / f"{name}.json"


def load_example(name: str) -> Document:
    path = example_path(name)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AttnvizError(f"{name}.json: the bundled example is missing ({e.strerror or e})") from None
    return weightsfile.loads(data, ".json", f"{name}.json")
