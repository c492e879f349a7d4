"""Putting untrusted text (model answers, run files, visitor input) into Markdown safely."""

from __future__ import annotations

import re

# characters that start Markdown markup mid-line (links, images, emphasis, code, HTML, tables, maths); newlines
# are flattened, so line-start markers (#, -, +, 1.) can only occur at the very start
_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~$])")
_LINE_START = re.compile(r"^\s*(#|-|\+|=|\d+[.)])")


def esc(text: object, limit: int = 400) -> str:
    """``text`` as literal Markdown: every formatting character escaped, newlines flattened, cut to ``limit``."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = _SPECIAL.sub(r"\\\1", s.replace("\r", " ").replace("\n", " "))
    # a heading, list or quote marker where the text starts a line
    m = _LINE_START.match(s)
    if m:
        i = m.end(1) - 1
        s = s[:i] + "\\" + s[i:]
    return s


__all__ = ["esc"]
