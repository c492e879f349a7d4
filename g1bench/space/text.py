"""Putting untrusted text (model answers, run files, visitor input) into Markdown and HTML safely, and keeping the
Space's own folders out of everything a visitor sees."""

from __future__ import annotations

import html
import os
import re
from typing import Iterable

# characters that start Markdown markup mid-line (links, images, emphasis, code, HTML, tables, maths); newlines
# are flattened, so line-start markers (#, -, +, 1.) can only occur at the very start
_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~$])")
_LINE_START = re.compile(r"^\s*(#|-|\+|=|\d+[.)])")
#: what may follow a folder's path: the rest of a longer path (hidden with it; a sentence's last "." or ":" is not
#: part of it), a lone "/", or nothing that continues the name (``/srv/store`` is not ``/srv/storex``)
_PATH_TAIL = r"(?:/[^\s'\"`<>|,;)\]]*[^\s'\"`<>|,;)\].:]|/|(?![\w.-]))"
#: ``file://`` URLs name a file on the machine that wrote them
_FILE_URL = re.compile(r"file://[^\s'\"`<>|)\]]*")


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


def h(text: object, limit: int = 400) -> str:
    """``text`` as literal HTML text (or an attribute value): escaped, newlines flattened, cut to ``limit``."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s.replace("\r", " ").replace("\n", " "), quote=True)


class PathScrubber:
    """Replaces the paths of the Space's own folders (its results store, runs, scratch and upload folders, the
    temp and home folders) in a text by short labels, so that no message, status line or error ever shows a
    visitor where the Space keeps its files.

    Args:
        folders: ``(path, label)`` pairs; a path is matched as given and resolved, with anything below it
            (``/tmp/x/store/entries/a`` becomes ``[results store]``). Longer paths are matched first, so a folder
            inside another keeps its own label.
    """

    def __init__(self, folders: Iterable[tuple[str | os.PathLike, str]]):
        pairs: dict[str, str] = {}
        for path, label in folders:
            if path is None:
                continue
            for form in {str(path), os.path.realpath(str(path)), os.path.abspath(str(path))}:
                form = form.rstrip("/")
                if len(form) <= 1:  # never "/" alone: it would eat every path
                    continue
                # as written, and as it reads inside Markdown that escaped it (``_`` becomes ``\_``)
                for shown in (form, esc(form, 10**6)):
                    pairs.setdefault(shown, label)
        self.folders = sorted(pairs.items(), key=lambda kv: -len(kv[0]))
        self._patterns = [(re.compile(re.escape(p) + _PATH_TAIL), label) for p, label in self.folders]

    def __call__(self, text: object) -> str:
        s = _FILE_URL.sub("[a file on the server]", str(text))
        for pattern, label in self._patterns:
            s = pattern.sub(label, s)
        return s


__all__ = ["esc", "h", "PathScrubber"]
