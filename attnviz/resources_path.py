"""Find a bundled data file, installed or in a source checkout.

The wheel maps the repository's top-level ``resources/`` to
``attnviz/resources`` (hatch force-include), so an installed package finds
its files through importlib.resources. Running from a source checkout there
is no ``attnviz/resources``; the files sit next to the package instead.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

# attnviz/resources_path.py -> parents[1] is the repository root.
_CHECKOUT_RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path | Traversable:
    """The installed resource ``parts`` if present, else the checkout's copy.

    The checkout path is returned even when it does not exist, so a caller's
    "file not found" message names a place a developer can look at.
    """
    try:
        packaged = importlib.resources.files("attnviz").joinpath("resources", *parts)
        if packaged.is_file() or packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return _CHECKOUT_RESOURCES.joinpath(*parts)
