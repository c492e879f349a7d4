"""A leaderboard entry: one verified run as files, and the lossless step-log codec.

An entry lives in a results store (a Hub dataset repo or a local folder, same layout) at
``entries/<suite_id>/<model-slug>--<hash>/``::

    run.json         the run's run.json (parsed and written again: same content)
    results.json     the run's results.json (likewise)
    steps.parquet    the step log: one row per answered step (answers, actions, rewards, state hashes, ...)
    results.parquet  one row per (game, difficulty) of results.json: the ``results`` config of the store

Frames, when pushed (``--frames``), are shared by all entries at ``frames/<id[:2]>/<id>.png`` (a frame's id
is the hash of its render inputs, so equal frames are stored once).

``<hash>`` is the content hash of (run.json, results.json, step records): pushing the same run again gives
the same entry id, so nothing new is written. ``steps.parquet`` maps back to the exact step records
(:func:`steps_from_table`): every field a record has keeps its value and its JSON type, so an entry read
back verifies with :func:`g1bench.eval.verify.verify_data` exactly as the run directory did.

Nothing in an entry is trusted: it is read with size limits (sizes are checked before bytes: a file's
size before it is read or downloaded, a parquet file's row count and uncompressed size from its metadata
before its rows are decoded, against what the entry's suite can have logged), never executed, and every
text shown from it goes through :func:`g1bench.core.files.clean_text`.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..core.files import FileFormatError, check_regular, clean_text, loads, read_bytes
from ..core.hashing import canonical_json, content_hash

ENTRY_FORMAT = "g1bench-entry/1"
ENTRIES_DIR = "entries"
FRAMES_DIR = "frames"
RUN_FILE, RESULTS_FILE, STEPS_FILE, ROWS_FILE = "run.json", "results.json", "steps.parquet", "results.parquet"
#: the files every entry has (the content key of an entry is the hash of their bytes)
ENTRY_FILES = (RUN_FILE, RESULTS_FILE, STEPS_FILE, ROWS_FILE)
#: size limits when reading an entry's files (a paper-suite step log is ~0.2 MB as parquet; its suite bounds it
#: further, see :func:`g1bench.eval.budget.max_log_bytes`)
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_PARQUET_BYTES = 512 * 1024 * 1024
#: results.parquet has one row per (game, difficulty) cell
MAX_ROWS_PARQUET_BYTES = 4 * 1024 * 1024
#: an entry id: ``<suite_id>/<model-slug>--<16 hex>``
ENTRY_ID = re.compile(r"(?P<suite>[A-Za-z0-9][A-Za-z0-9._+-]{0,199})/(?P<slug>[A-Za-z0-9][A-Za-z0-9._-]{0,59})--(?P<hash>[0-9a-f]{16})")


class EntryError(ValueError):
    """An entry cannot be built or read (the message says which file and why)."""


# -- the step-log codec -----------------------------------------------------------------------------
#: every field of a step record (g1bench.eval.steps.play_answer), in record order, with its column kind
STEP_FIELDS: tuple[tuple[str, str], ...] = (
    ("episode_id", "str"), ("step", "int"), ("game_index", "int"), ("state_hash", "str"), ("frame", "str"),
    ("prompt_hash", "str"), ("answer", "str"), ("parse_error", "str"), ("action", "json"),
    ("fallback_action", "int"), ("reward", "float"), ("score_delta", "int"), ("valid", "bool"),
    ("success", "bool"), ("reason", "str"), ("terminated", "bool"), ("perception", "str"),
    ("has_perception", "bool"), ("perception_ok", "bool"), ("format_ok", "bool"), ("input_tokens", "int"),
    ("output_tokens", "int"), ("latency_s", "float"), ("extra", "json"),
)
#: fields a record may lack without it being recorded as an exception (play_answer omits an empty extra)
OPTIONAL_FIELDS = frozenset({"extra"})
#: columns derived from the entry and the episode id, for people who load the ``steps`` config
CONTEXT_COLUMNS = ("entry_id", "model", "suite_id", "game", "difficulty")
#: JSON object of what a typed column cannot hold: {"set": {field: value}, "absent": [field, ...]}
EXCEPTIONS = "exceptions"
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _arrow_type(kind: str):
    import pyarrow as pa

    return {"str": pa.string(), "json": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[kind]


def steps_schema():
    """The fixed arrow schema of ``steps.parquet`` (equal in every entry, so the ``steps`` config loads as one)."""
    import pyarrow as pa

    cols = [pa.field(name, pa.string()) for name in CONTEXT_COLUMNS]
    cols += [pa.field(name, _arrow_type(kind)) for name, kind in STEP_FIELDS]
    cols.append(pa.field(EXCEPTIONS, pa.string()))
    return pa.schema(cols)


def _fits(kind: str, value: Any) -> bool:
    """Whether a column of ``kind`` holds ``value`` so that it reads back identical (same value and JSON type)."""
    if value is None:
        return kind != "json"  # a JSON column's null stands for null; None there is kept as an exception
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return type(value) is int and _INT64[0] <= value <= _INT64[1]
    if kind == "float":
        return type(value) is float and math.isfinite(value)
    if kind == "bool":
        return type(value) is bool
    return True  # json


def encode_step(record: Mapping[str, Any]) -> dict[str, Any]:
    """One step record as a row of the typed columns (plus ``exceptions`` for what they cannot hold)."""
    row: dict[str, Any] = {}
    extra_set: dict[str, Any] = {}
    absent = []
    for name, kind in STEP_FIELDS:
        if name not in record:
            row[name] = None
            if name not in OPTIONAL_FIELDS:
                absent.append(name)
            continue
        value = record[name]
        if not _fits(kind, value):
            row[name] = None
            extra_set[name] = value
        elif kind == "json":
            row[name] = json.dumps(value, separators=(",", ":"), allow_nan=False)
        else:
            row[name] = value
    known = {name for name, _ in STEP_FIELDS}
    for k, v in record.items():
        if k not in known:
            extra_set[k] = v  # a field a newer g1bench records: kept, in order after the known ones
    exc = {}
    if extra_set:
        exc["set"] = extra_set
    if absent:
        exc["absent"] = absent
    row[EXCEPTIONS] = json.dumps(exc, separators=(",", ":"), allow_nan=False) if exc else None
    return row


def decode_step(row: Mapping[str, Any], where: str = "steps.parquet") -> dict[str, Any]:
    """The step record a row encodes (inverse of :func:`encode_step`)."""
    exc = {}
    if row.get(EXCEPTIONS) is not None:
        exc = _json_cell(row[EXCEPTIONS], f"{where}: {EXCEPTIONS}")
        if not isinstance(exc, dict) or not isinstance(exc.get("set", {}), dict) or \
                not isinstance(exc.get("absent", []), list):
            raise EntryError(f"{where}: {EXCEPTIONS} must be an object with 'set' (object) and 'absent' (list)")
    overrides, absent = exc.get("set", {}), set(exc.get("absent", []))
    record: dict[str, Any] = {}
    for name, kind in STEP_FIELDS:
        if name in absent:
            continue
        if name in overrides:
            record[name] = overrides[name]
            continue
        value = row.get(name)
        if kind == "json":
            if value is None:
                if name in OPTIONAL_FIELDS:
                    continue
                record[name] = None
            else:
                record[name] = _json_cell(value, f"{where}: {name}")
        else:
            record[name] = value
    for k, v in overrides.items():
        if k not in record:
            record[k] = v
    return record


def _json_cell(text: Any, where: str) -> Any:
    if not isinstance(text, str):
        raise EntryError(f"{where}: expected JSON text, got {type(text).__name__}")
    try:
        return loads(text, where=where)
    except FileFormatError as e:
        raise EntryError(str(e)) from None


def split_episode_id(episode_id: str) -> tuple[str, str]:
    """``game/difficulty/index`` -> ``(game, difficulty)`` (empty strings when it is not of that form)."""
    parts = episode_id.split("/")
    return (parts[0], parts[1]) if len(parts) == 3 else ("", "")


def steps_table(steps: Mapping[str, list[dict[str, Any]]], order: Iterable[str] | None = None, *,
                entry_id: str = "", model: str = "", suite_id: str = ""):
    """The step records per episode id as an arrow table with :func:`steps_schema` (episodes in ``order``)."""
    import pyarrow as pa

    ids = list(order) if order is not None else list(steps)
    listed = set(ids)
    ids += [e for e in steps if e not in listed]  # steps of episodes the order lacks still round-trip
    rows = []
    for eid in ids:
        game, difficulty = split_episode_id(eid)
        for rec in steps.get(eid, ()):
            row = encode_step(rec)
            row.update(entry_id=entry_id, model=model, suite_id=suite_id, game=game, difficulty=difficulty)
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=steps_schema())


def steps_from_table(table, where: str = STEPS_FILE) -> dict[str, list[dict[str, Any]]]:
    """The step records per episode id (in step order) that a ``steps.parquet`` table holds: one row per answered
    (episode, step), each episode's steps numbered from 0 without a gap.

    Raises:
        EntryError: a column is missing or has another type, a cell is not valid JSON, a row's ``episode_id`` is
            not text, or a step is repeated or skipped.
    """
    want = steps_schema()
    for f in want:
        if f.name not in table.column_names:
            raise EntryError(f"{where}: missing column {f.name!r}")
        if table.schema.field(f.name).type != f.type:
            raise EntryError(f"{where}: column {f.name!r} is {table.schema.field(f.name).type}, expected {f.type}")
    out: dict[str, list[dict[str, Any]]] = {}
    names = [f.name for f in want]
    columns = {n: table.column(n).to_pylist() for n in names}
    for i in range(table.num_rows):
        row = {n: columns[n][i] for n in names}
        rec = decode_step(row, f"{where} row {i}")
        eid = rec.get("episode_id")
        if not isinstance(eid, str):
            raise EntryError(f"{where} row {i}: episode_id must be text")
        steps = out.setdefault(eid, [])
        k = rec.get("step")
        if k != len(steps):
            what = "a second row of" if isinstance(k, int) and 0 <= k < len(steps) else "out of order:"
            raise EntryError(f"{where} row {i}: {what} {_short(eid)} step {_short(k)} (one row per answered step, "
                             "numbered from 0)")
        steps.append(rec)
    return out


def check_context(table, entry_id: str, model: str, suite_id: str, where: str = STEPS_FILE) -> None:
    """The derived columns of a steps table agree with its entry and each row's episode id (so the
    ``steps`` config shows what was verified)."""
    cols = {n: table.column(n).to_pylist() for n in (*CONTEXT_COLUMNS, "episode_id")}
    for i in range(table.num_rows):
        game, difficulty = split_episode_id(cols["episode_id"][i] or "")
        want = {"entry_id": entry_id, "model": model, "suite_id": suite_id, "game": game, "difficulty": difficulty}
        for k, v in want.items():
            if cols[k][i] != v:
                raise EntryError(f"{where} row {i}: column {k} is {_short(cols[k][i])}, but the entry says {_short(v)}")


def parquet_bytes(table) -> bytes:
    """A table as parquet bytes (zstd; the same table gives the same bytes)."""
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=False)
    return buf.getvalue()


def read_parquet(data: bytes, where: str, max_rows: int | None = None, max_bytes: int | None = None):
    """A parquet file's table; with ``max_rows`` / ``max_bytes``, its metadata's row count and uncompressed size
    are checked first, before any row is decoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(pa.BufferReader(data))
        meta = f.metadata
        if max_rows is not None and meta.num_rows > max_rows:
            raise EntryError(f"{where}: {meta.num_rows:,} rows, but its suite has {max_rows:,} steps to answer (one "
                             "row per answered step); refused without reading them")
        if max_bytes is not None:
            size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            if size > max_bytes:
                raise EntryError(f"{where}: its rows take {size / 2 ** 20:,.1f} MB uncompressed, more than the "
                                 f"{max_bytes / 2 ** 20:,.1f} MB its suite's steps may log; refused without reading them")
        return f.read(use_threads=False)
    except (MemoryError, EntryError):
        raise  # over the verifier's memory budget (its caller says so), or refused from the metadata
    except (pa.ArrowException, OSError, ValueError) as e:
        raise EntryError(f"{where}: not a readable parquet file ({type(e).__name__}: {_short(str(e))})") from None


# -- results rows (the store's ``results`` config) -----------------------------------------------------
#: one row per (run, game, difficulty): (column, kind), in order
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry_id", "str"), ("model", "str"), ("model_type", "str"), ("model_revision", "str"), ("suite_id", "str"),
    ("suite_hash", "str"), ("group", "str"), ("game", "str"), ("difficulty", "str"), ("metric", "str"),
    ("n", "int"), ("mean", "float"), ("std", "float"), ("ci95_low", "float"), ("ci95_high", "float"),
    ("steps", "int"), ("success_rate", "float"), ("parse_failure_rate", "float"), ("invalid_action_rate", "float"),
    ("format_rate", "float"), ("perception_answered", "int"), ("perception_accuracy", "float"),
    ("reasoning_accuracy", "float"), ("mean_output_tokens", "float"), ("mean_input_tokens", "float"),
    ("mean_latency_s", "float"), ("cost_usd", "float"), ("games_played", "int"), ("answer_grammar", "str"),
    ("prompt_version", "str"), ("date", "str"), ("g1bench_version", "str"),
)


def results_schema():
    import pyarrow as pa

    return pa.schema([pa.field(n, _arrow_type(k)) for n, k in RESULT_COLUMNS])


def _num(x: Any, kind: str) -> Any:
    if x is None:
        return None
    return int(x) if kind == "int" else float(x)


def results_rows(entry_id: str, run: Mapping[str, Any], results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``results.parquet``: one per group of ``results.json``, with the entry's context."""
    from .identity import model_name, model_revision, model_type

    prov = results["provenance"]
    policy = prov["policy"]
    out = []
    for key, g in results["results"].items():
        row = {"entry_id": entry_id, "model": model_name(policy), "model_type": model_type(policy),
               "model_revision": model_revision(policy), "suite_id": prov["suite"]["suite_id"],
               "suite_hash": prov["suite"]["hash"], "group": key, "game": g["game"], "difficulty": g["difficulty"],
               "metric": g["metric"], "ci95_low": _num(g["ci95"][0], "float"), "ci95_high": _num(g["ci95"][1], "float"),
               "date": run_date(results), "g1bench_version": prov["g1bench_version"]}
        for name, kind in RESULT_COLUMNS:
            if name not in row:
                row[name] = _num(g.get(name), kind) if kind in ("int", "float") else g.get(name)
        out.append({name: row[name] for name, _ in RESULT_COLUMNS})
    return out


def results_table(rows: list[dict[str, Any]]):
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=results_schema())


def run_date(results: Mapping[str, Any]) -> str:
    """The run's date (``YYYY-MM-DD`` of its end, else its start)."""
    prov = results["provenance"]
    return str(prov.get("end_time") or prov.get("start_time") or "")[:10]


# -- building and reading entries --------------------------------------------------------------------
def slug(text: str) -> str:
    """A path-safe short name for a model (letters, digits, ``._-``; never starting with a dot)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60].rstrip("-.")
    return s or "model"


def entry_hash(run: Any, results: Any, steps: Mapping[str, list[dict[str, Any]]]) -> str:
    """The content hash that names an entry: run.json, results.json and the step records (canonical JSON)."""
    return content_hash({"format": ENTRY_FORMAT, "run": run, "results": results,
                         "steps": [steps[k] for k in sorted(steps)], "episodes": sorted(steps)})


def content_key(entry_id: str, files: Mapping[str, bytes]) -> str:
    """SHA-256 over an entry's id and the bytes of its files: what its cached verdict is keyed by."""
    import hashlib

    h = hashlib.sha256(entry_id.encode())
    for name in ENTRY_FILES:
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def parse_entry_id(entry_id: str) -> dict[str, str]:
    """``{"suite", "slug", "hash"}`` of an entry id (EntryError when it is not one)."""
    m = ENTRY_ID.fullmatch(entry_id or "")
    if not m:
        raise EntryError(f"not an entry id: {clean_text(entry_id, keep_newlines=False)[:120]!r} "
                         "(expected <suite_id>/<model>--<16 hex digits>)")
    return m.groupdict()


@dataclass
class EntryFiles:
    """An entry ready to store: its id, the bytes of its files and the frames it may carry.

    Attributes:
        entry_id: ``<suite_id>/<model-slug>--<hash>``.
        files: ``{name: bytes}`` of :data:`ENTRY_FILES`.
        frames: ``{frame id: path of its PNG}`` for the frames the step log names and the run holds.
        run / results / steps: the parsed content (what the files hold).
    """

    entry_id: str
    files: dict[str, bytes]
    run: dict[str, Any]
    results: dict[str, Any]
    steps: dict[str, list[dict[str, Any]]]
    frames: dict[str, Path] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """The entry's folder inside a store."""
        return f"{ENTRIES_DIR}/{self.entry_id}"

    def paths(self) -> dict[str, bytes]:
        """``{path in the store: bytes}`` of the entry's files."""
        return {f"{self.folder}/{name}": data for name, data in self.files.items()}


def frame_path(frame_id: str) -> str:
    """Where a frame lives in a store."""
    return f"{FRAMES_DIR}/{frame_id[:2]}/{frame_id}.png"


_FRAME_ID = re.compile(r"[0-9a-f]{8,64}")


def make_entry(run: dict[str, Any], results: dict[str, Any], steps: dict[str, list[dict[str, Any]]],
               frames_dir: str | os.PathLike | None = None) -> EntryFiles:
    """An entry from a run given as data (``steps`` per episode id, in step order)."""
    from ..eval.rundir import run_suite
    from .identity import model_name

    suite = run_suite(run)
    order = [e.episode_id for e in suite.episodes]
    h = entry_hash(run, results, steps)
    model = model_name(results["provenance"]["policy"])
    entry_id = f"{suite.suite_id}/{slug(model)}--{h}"
    table = steps_table(steps, order, entry_id=entry_id, model=model, suite_id=suite.suite_id)
    files = {
        RUN_FILE: _json_bytes(run),
        RESULTS_FILE: _json_bytes(results),
        STEPS_FILE: parquet_bytes(table),
        ROWS_FILE: parquet_bytes(results_table(results_rows(entry_id, run, results))),
    }
    frames = {}
    if frames_dir is not None:
        folder = Path(frames_dir)
        for recs in steps.values():
            for r in recs:
                fid = r.get("frame")
                if isinstance(fid, str) and _FRAME_ID.fullmatch(fid) and fid not in frames and (folder / f"{fid}.png").is_file():
                    frames[fid] = folder / f"{fid}.png"
    return EntryFiles(entry_id, files, run, results, steps, frames)


def entry_from_run_dir(run_dir: str | os.PathLike, frames: bool = False) -> EntryFiles:
    """The entry of a run directory (its run.json, results.json and step log; frames if asked).

    Raises:
        EntryError: the run directory cannot be read (verify it first: :func:`g1bench.eval.verify.verify_run`).
    """
    from ..eval.results import ResultsError, load
    from ..eval.rundir import STEPS_FILE as LOG, RunError, read_run_json, read_steps_file

    run_dir = Path(run_dir)
    try:
        run = read_run_json(run_dir)
        results = load(run_dir)
        steps, _ = read_steps_file(run_dir / LOG)
    except (RunError, ResultsError) as e:
        raise EntryError(str(e)) from None
    return make_entry(run, results, steps, run_dir / "frames" if frames else None)


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, allow_nan=False) + "\n").encode()


@dataclass
class EntryData:
    """An entry read back from a store's files: what :func:`read_entry_files` parsed."""

    entry_id: str
    run: dict[str, Any]
    results: dict[str, Any]
    steps: dict[str, list[dict[str, Any]]]
    steps_table: Any
    rows_table: Any


def file_limit(name: str) -> int:
    """The most bytes an entry file called ``name`` may have (before its suite bounds it further)."""
    return {ROWS_FILE: MAX_ROWS_PARQUET_BYTES, STEPS_FILE: MAX_PARQUET_BYTES}.get(name, MAX_JSON_BYTES)


def read_entry_files(entry_id: str, files: Mapping[str, bytes], work: Any = None) -> EntryData:
    """Parse an entry's files (``{name: bytes}``) with size limits; EntryError names what is wrong.

    ``work``: what its suite declares (:func:`g1bench.eval.budget.suite_work`); the step table then has at most
    one row per step of the suite and at most the bytes those steps may log, checked from its metadata first."""
    from ..eval.budget import log_problem, max_log_bytes

    for name in ENTRY_FILES:
        if name not in files:
            raise EntryError(f"{entry_id}: missing {name}")
        if len(files[name]) > file_limit(name):
            raise EntryError(f"{entry_id}/{name}: larger than the {file_limit(name):,}-byte limit")
    run = json_file(files[RUN_FILE], f"{entry_id}/{RUN_FILE}")
    results = json_file(files[RESULTS_FILE], f"{entry_id}/{RESULTS_FILE}")
    where = f"{entry_id}/{STEPS_FILE}"
    if work is not None:
        problem = log_problem(work, len(files[STEPS_FILE]), where)
        if problem:
            raise EntryError(problem)
    table = read_parquet(files[STEPS_FILE], where, max_rows=work.steps if work is not None else None,
                         max_bytes=max_log_bytes(work) if work is not None else None)
    steps = steps_from_table(table, where)
    rows = read_parquet(files[ROWS_FILE], f"{entry_id}/{ROWS_FILE}", max_rows=10_000, max_bytes=MAX_ROWS_PARQUET_BYTES)
    return EntryData(entry_id, run, results, steps, table, rows)


def read_sized(path: str | os.PathLike, limit: int) -> bytes:
    """A regular file's bytes, its size checked against ``limit`` before it is read (and no more memory asked for
    than the file has: a read of ``limit`` bytes would reserve them)."""
    p = check_regular(path)
    try:
        size = os.stat(p).st_size
    except OSError as e:
        raise FileFormatError(f"{p}: cannot read: {e.strerror or e}") from None
    if size > limit:
        raise FileFormatError(f"{p}: {size:,} bytes, larger than the {limit:,}-byte limit for this kind of file")
    return read_bytes(p, size)


def read_entry_dir(entry_id: str, folder: str | os.PathLike) -> dict[str, bytes]:
    """The bytes of an entry's files in a local folder (EntryError when one is missing or special)."""
    out = {}
    for name in ENTRY_FILES:
        try:
            out[name] = read_sized(Path(folder) / name, file_limit(name))
        except FileFormatError as e:
            raise EntryError(f"{entry_id}: {e}") from None
    return out


def json_file(data: bytes, where: str) -> Any:
    """An entry's JSON file parsed (size and depth limits); EntryError when it is not JSON."""
    if len(data) > MAX_JSON_BYTES:
        raise EntryError(f"{where}: larger than the {MAX_JSON_BYTES:,}-byte limit")
    try:
        return loads(data, where=where)
    except FileFormatError as e:
        raise EntryError(str(e)) from None


_json_file = json_file


def write_run_dir(data: EntryData, dest: str | os.PathLike) -> Path:
    """Write an entry as a run directory (run.json, results.json, steps.jsonl) that ``g1bench verify``,
    ``report`` and the Space's replay read."""
    from ..core.files import write_atomic
    from ..eval.rundir import STEPS_FILE as LOG

    dest = Path(dest)
    (dest / "frames").mkdir(parents=True, exist_ok=True)
    write_atomic(dest / "run.json", data.run)
    write_atomic(dest / "results.json", data.results)
    lines = [json.dumps(r, separators=(",", ":"), allow_nan=False) + "\n" for recs in data.steps.values() for r in recs]
    write_atomic(dest / LOG, None, text="".join(lines))
    return dest


def _short(x: Any) -> str:
    r = repr(x)
    return clean_text(r if len(r) <= 80 else r[:77] + "...", keep_newlines=False)


def canonical_steps(steps: Mapping[str, list[dict[str, Any]]]) -> str:
    """Canonical JSON of step records (tests compare round trips with it)."""
    return canonical_json({k: steps[k] for k in sorted(steps)})


__all__ = ["ENTRY_FORMAT", "ENTRIES_DIR", "FRAMES_DIR", "ENTRY_FILES", "RUN_FILE", "RESULTS_FILE", "STEPS_FILE",
           "ROWS_FILE", "EntryError", "EntryFiles", "EntryData", "STEP_FIELDS", "RESULT_COLUMNS", "steps_schema",
           "results_schema", "encode_step", "decode_step", "steps_table", "steps_from_table", "results_rows",
           "make_entry", "entry_from_run_dir", "read_entry_files", "read_entry_dir", "write_run_dir", "entry_hash",
           "parse_entry_id", "content_key", "frame_path", "slug", "run_date", "check_context", "canonical_steps",
           "json_file", "file_limit", "read_sized", "MAX_ROWS_PARQUET_BYTES"]
