"""Helpers that test suites reuse: a Hub-protocol server (:mod:`.hub_server`) and more (see the modules)."""

from .hub_server import HubServer, hub_env

__all__ = ["HubServer", "hub_env"]
