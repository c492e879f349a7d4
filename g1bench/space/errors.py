"""The one error type of the Space: what a visitor did wrong or what cannot be done, said in one line."""

from __future__ import annotations


class SpaceError(ValueError):
    """An input or a session the Space refuses; the message is shown to the visitor as it is."""
