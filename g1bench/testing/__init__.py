"""Helpers that test suites reuse: a Hub-protocol server (:mod:`.hub_server`) and more (see the modules).

Submodules are imported on first use, so importing one helper never pulls in another's dependencies.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HubServer", "hub_env"]


def __getattr__(name: str) -> Any:
    if name in ("HubServer", "hub_env"):
        from . import hub_server

        return getattr(hub_server, name)
    raise AttributeError(f"module 'g1bench.testing' has no attribute {name!r}")
