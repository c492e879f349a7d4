"""Reading and writing g1bench's own files safely: one owner for limits, permissions and terminal text.

Files that g1bench reads back (``results.json``, ``run.json``, step logs, snapshots, leaderboard entries)
may come from anyone: a crashed run, a hand edit, a download. Everything here refuses what would hang,
exhaust memory or blow the stack, with a :class:`FileFormatError` that names the file and says why:

* special files (a FIFO would block ``open``; ``/dev/zero`` never ends) are refused before opening;
* reads stop at a size limit;
* JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused before parsing;
* text from files is stripped of control characters (ANSI escapes) before it reaches a terminal.

Files g1bench writes share one permission policy: what ``open()`` would create under the process umask
(usually 0644), including atomic writes, which go through a temporary file and a rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

#: Default size limit of a JSON document g1bench reads (results, run metadata, snapshots).
MAX_JSON_BYTES = 64 * 1024 * 1024
#: Deepest nesting accepted in a JSON document (g1bench's own files nest fewer than 10 levels).
MAX_JSON_DEPTH = 64


class FileFormatError(ValueError):
    """A file cannot be read as asked: missing, special, too large, not UTF-8, not JSON, too deep."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: the mode ``open()`` gives a new file here; atomic writes use it too (mkstemp alone would give 0600)
FILE_MODE = 0o666 & ~_umask()


def check_regular(path: str | os.PathLike) -> Path:
    """``path`` if it is a regular file (links are followed); else :class:`FileFormatError`."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileFormatError(f"{p}: no such file") from None
    except NotADirectoryError:
        raise FileFormatError(f"{p}: a parent of this path is a file, not a folder") from None
    except OSError as e:
        raise FileFormatError(f"{p}: cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileFormatError(f"{p}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(f"{p}: not a regular file (a device, FIFO or socket); refusing to read it")
    return p


def read_bytes(path: str | os.PathLike, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    p = check_regular(path)
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise FileFormatError(f"{p}: cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise FileFormatError(f"{p}: larger than the {limit:,}-byte limit for this kind of file")
    return data


def read_text(path: str | os.PathLike, limit: int = MAX_JSON_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text (strings ignored); linear time, no recursion."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRINGS.sub("", text)):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(text: str | bytes, where: str = "JSON", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses deep nesting, NaN/Infinity and invalid text with a :class:`FileFormatError`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileFormatError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if json_depth(text) > max_depth:
        raise FileFormatError(f"{where}: JSON nested deeper than {max_depth} levels; refusing to parse it")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=no_constants)
    except (ValueError, RecursionError) as e:
        raise FileFormatError(f"{where}: not valid JSON ({e})") from None


def read_json(path: str | os.PathLike, limit: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document from a regular file, with the size and depth limits above."""
    return loads(read_text(path, limit), where=str(path), max_depth=max_depth)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """A temporary path beside ``path`` to write the whole file to; on leaving the block it gets the run-file
    permissions (:data:`FILE_MODE`) and is renamed over ``path``, so a crash never leaves a half-written file.
    On any error the temporary file is removed and the error raised (``OSError``: read-only folder, full disk)."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: str | os.PathLike, data: Any, *, text: str | None = None) -> None:
    """Write ``data`` as indented JSON (or ``text`` as is) via a temp file + fsync + rename (:func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        if text is None:
            json.dump(data, f, indent=2, sort_keys=False, allow_nan=False)
            f.write("\n")
        else:
            f.write(text)
        f.flush()
        os.fsync(f.fileno())


# C0 controls except tab and newline, DEL, C1 controls, and whole ANSI escape sequences (CSI/OSC/other)
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: Any, *, keep_newlines: bool = True) -> str:
    """``text`` made safe for a terminal: ANSI escapes and control characters removed.

    Bidirectional-override and zero-width characters go too (they can make a name read as another).
    Newlines and tabs stay unless ``keep_newlines`` is False (then they become spaces).
    """
    s = _CONTROL.sub("", _ANSI.sub("", str(text)))
    if not keep_newlines:
        s = s.replace("\n", " ").replace("\t", " ")
    return s


__all__ = ["FileFormatError", "FILE_MODE", "atomic_path", "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "check_regular", "read_bytes",
           "read_text", "json_depth", "loads", "read_json", "write_atomic", "clean_text"]
