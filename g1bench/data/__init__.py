"""Hugging Face datasets of the games: perception annotations, start states, episodes, suite manifests.

* :func:`build_dataset` (``g1bench data build``) writes a folder of parquet files and a dataset card that
  ``datasets.load_dataset(folder, config)`` reads offline;
* :func:`from_run` (``g1bench data from-run``) converts an evaluation run directory into the episodes format;
* :func:`push_folder` (``g1bench data push``) uploads a folder to the Hub.

Everything is deterministic: the same command gives byte-identical files.
"""

from __future__ import annotations

from typing import Any

from .errors import DataError

__all__ = ["DataError", "build_dataset", "from_run", "make_spec", "push_folder"]


def __getattr__(name: str) -> Any:  # keep `import g1bench.data` light: the builders import pyarrow/datasets
    if name in ("build_dataset", "make_spec", "BuildSpec", "BuildReport"):
        from . import build

        return getattr(build, name)
    if name == "from_run":
        from .fromrun import from_run

        return from_run
    if name == "push_folder":
        from .hub import push_folder

        return push_folder
    raise AttributeError(f"module 'g1bench.data' has no attribute {name!r}")
