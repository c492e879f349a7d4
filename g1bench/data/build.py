"""``g1bench data build``: plan, shard, build in parallel and publish a dataset folder.

A build is a list of :class:`Job` s, one per output file, each a pure function of the :class:`BuildSpec`.
Jobs run in worker processes and write into a hidden staging folder (``OUT/.g1bench-build``) under a
``.part`` name that is renamed when the file is complete. When every job is done the files move into
place and the card (``README.md``, which makes the folder a dataset) is written last, so an interrupted
build never looks complete: ``--resume`` keeps finished files and redoes the rest.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import __version__
from ..core.hashing import canonical_json, content_hash
from .errors import DataError
from .schema import PUBLISHED_SUITES

CONFIG_KINDS = ("perception", "states", "episodes", "manifests")
POLICIES = ("random", "random-legal", "oracle")
STAGE = ".g1bench-build"
CARD = "README.md"
TILEPACK_LICENSE = "LICENSES/tilepack-LICENSE.txt"

#: rows per parquet file (several files per split let both cores work on one config)
PERCEPTION_SHARD_ROWS = 500
STATES_SHARD_ROWS = 25
EPISODES_PER_SHARD = 10
#: rows per parquet row group for image configs (the Hub's viewer wants small row groups for images)
IMAGE_ROW_GROUP = 100
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True, "write_statistics": True}

Log = Callable[[str], None]


# -- the spec ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuildSpec:
    """Everything that defines a build's output (the files depend on nothing else).

    Attributes:
        configs: config kinds to build (``perception``, ``states``, ``episodes``, ``manifests``).
        presets: per game (in ``list_games`` order), the difficulty presets to build.
        train / test: perception rows per split per (game, preset).
        states_train / states_test: state rows per split per (game, preset, sampling).
        episodes / steps / policies: baseline episodes per (game, preset, policy), and their length.
    """

    configs: tuple[str, ...]
    presets: tuple[tuple[str, tuple[str, ...]], ...]
    train: int = 1000
    test: int = 200
    states_train: int = 100
    states_test: int = 20
    episodes: int = 3
    steps: int = 30
    policies: tuple[str, ...] = POLICIES

    @property
    def games(self) -> tuple[str, ...]:
        return tuple(g for g, _ in self.presets)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["presets"] = {g: list(p) for g, p in self.presets}
        return {"g1bench": __version__, **d}

    def build_id(self) -> str:
        return content_hash(self.to_dict())

    def command(self) -> str:
        """The canonical command line that builds exactly these files (OUT and --workers do not matter)."""
        defaults = default_presets()
        parts = ["g1bench data build OUT", "--configs " + ",".join(self.configs), "--games " + ",".join(self.games)]
        if any(tuple(p) != tuple(defaults[g]) for g, p in self.presets):
            parts.append("--presets " + ",".join(f"{g}:{p}" for g, ps in self.presets for p in ps))
        parts += [f"--train {self.train}", f"--test {self.test}", f"--states-train {self.states_train}",
                  f"--states-test {self.states_test}", f"--episodes {self.episodes}", f"--steps {self.steps}",
                  "--policies " + ",".join(self.policies)]
        return " ".join(parts)


def _all_presets() -> dict[str, list[str]]:
    from .. import list_games, list_presets

    return {g: list_presets(g) for g in list_games()}


def default_presets() -> dict[str, list[str]]:
    """Every preset that builds offline (presets whose tiles must be downloaded are left out)."""
    from .sampling import needs_download

    return {g: [p for p in ps if not needs_download(g, p)] for g, ps in _all_presets().items()}


def _split_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [s.strip() for s in items if s and s.strip()]


def make_spec(configs: str | Sequence[str] | None = None, games: str | Sequence[str] | None = None,
              presets: str | Sequence[str] | None = None, train: int = 1000, test: int = 200,
              states_train: int = 100, states_test: int = 20, episodes: int = 3, steps: int = 30,
              policies: str | Sequence[str] | None = None) -> BuildSpec:
    """Validate user input into a :class:`BuildSpec`; every mistake is a :class:`DataError` that says what to do.

    ``presets`` entries are ``preset`` (for every selected game that has it) or ``game:preset``.
    """
    from ..games import get_game, list_games
    from .sampling import SPLIT_SEEDS, available_exactly, needs_download

    config_list = _split_list(configs) or list(CONFIG_KINDS)
    unknown = [c for c in config_list if c not in CONFIG_KINDS]
    if unknown:
        raise DataError(f"unknown config kind(s) {unknown}; choose from {list(CONFIG_KINDS)}")
    config_list = [c for c in CONFIG_KINDS if c in config_list]

    game_list = []
    for g in _split_list(games) or list_games():
        try:
            name = get_game(g).name
        except KeyError:
            raise DataError(f"unknown game {g!r}; games: {list_games()}") from None
        if name not in game_list:
            game_list.append(name)
    game_list = [g for g in list_games() if g in game_list]
    all_presets = _all_presets()

    chosen: dict[str, list[str]] = {g: [] for g in game_list}
    requested = _split_list(presets)
    if not requested:
        defaults = default_presets()
        chosen = {g: list(defaults[g]) for g in game_list}
    else:
        for entry in requested:
            if ":" in entry:
                g, p = (s.strip() for s in entry.split(":", 1))
                try:
                    g = get_game(g).name
                except KeyError:
                    raise DataError(f"unknown game {g!r} in --presets {entry!r}; games: {list_games()}") from None
                if g not in chosen:
                    raise DataError(f"--presets {entry!r}: game {g!r} is not among --games {game_list}")
                if p not in all_presets[g]:
                    raise DataError(f"unknown preset {p!r} for {g}; presets: {all_presets[g]}")
                targets = [g]
            else:  # a bare name: every selected game that has it and builds it offline
                targets = [g for g in game_list if entry in all_presets[g] and not needs_download(g, entry)]
                if not targets and any(entry in all_presets[g] for g in game_list):
                    g = next(g for g in game_list if entry in all_presets[g])
                    raise DataError(f"preset {entry!r} of {g} downloads its pictures; name it as '{g}:{entry}' "
                                    "to build it anyway")
                if not targets:
                    raise DataError(f"unknown preset {entry!r}: no selected game has it; presets: "
                                    + "; ".join(f"{g}: {all_presets[g]}" for g in game_list))
            for g in targets:
                if entry.split(":")[-1].strip() not in chosen[g]:
                    chosen[g].append(entry.split(":")[-1].strip())
        missing = [g for g in game_list if not chosen[g]]
        if missing:
            example = (default_presets()[missing[0]] or all_presets[missing[0]])[0]
            raise DataError(f"no preset selected for {missing}; add e.g. '{missing[0]}:{example}' "
                            "to --presets or drop the game from --games")
        chosen = {g: [p for p in all_presets[g] if p in chosen[g]] for g in game_list}
        for g in game_list:
            for p in chosen[g]:
                if needs_download(g, p) and not available_exactly(g, p):
                    raise DataError(f"{g}:{p} needs pictures that cannot be loaded here (no network, or HF_HUB_OFFLINE=1 "
                                    "without a cached copy); a build must show the tiles its preset names. Use the "
                                    f"offline presets {default_presets()[g]} or make the source available")

    counts = {"train": train, "test": test, "states_train": states_train, "states_test": states_test,
              "episodes": episodes, "steps": steps}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DataError(f"--{name.replace('_', '-')} must be a non-negative integer, got {value!r}")
        if value >= SPLIT_SEEDS:
            raise DataError(f"--{name.replace('_', '-')} must be below {SPLIT_SEEDS} (one seed range per split)")
    if "episodes" in config_list and steps < 1:
        raise DataError("--steps must be at least 1")
    policy_list = _split_list(policies) or list(POLICIES)
    bad = [p for p in policy_list if p not in POLICIES]
    if bad:
        raise DataError(f"unknown policy {bad}; built-in baselines: {list(POLICIES)}")
    return BuildSpec(configs=tuple(config_list), presets=tuple((g, tuple(chosen[g])) for g in game_list),
                     train=train, test=test, states_train=states_train, states_test=states_test,
                     episodes=episodes, steps=steps, policies=tuple(p for p in POLICIES if p in policy_list))


# -- the plan ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One output file: its path in the folder, what makes it, and how many rows it must hold."""

    path: str
    config: str | None  # None for non-dataset files (licence, JSON manifests)
    split: str | None
    kind: str
    params: tuple
    rows: int | None
    cost: float = 1.0


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _shard_name(config: str, split: str, i: int, n: int) -> str:
    return f"{config}/{split}-{i:05d}-of-{n:05d}.parquet"


# rough relative costs per row, for scheduling the slowest jobs first
_COST = {"perception": 1.0, "states": 25.0, "episodes": 2.0, "manifests": 2.0}


def plan(spec: BuildSpec) -> list[Job]:
    """Every output file of the build, in a fixed order."""
    from .sampling import SAMPLINGS, SEED_BASE

    jobs: list[Job] = []
    splits = {"train": spec.train, "test": spec.test}
    state_splits = {"train": spec.states_train, "test": spec.states_test}
    for game, presets in spec.presets:
        if "perception" in spec.configs:
            for preset in presets:
                config = f"perception-{game}-{preset}"
                for split, n in splits.items():
                    chunks = _chunks(n, PERCEPTION_SHARD_ROWS)
                    for i, (lo, hi) in enumerate(chunks):
                        base = SEED_BASE[split]
                        jobs.append(Job(_shard_name(config, split, i, len(chunks)), config, split, "perception",
                                        (game, preset, base + lo, base + hi), hi - lo, (hi - lo) * _COST["perception"]))
        if "states" in spec.configs:
            config = f"states-{game}"
            for split, n in state_splits.items():
                segments = [(preset, sampling, lo, hi) for preset in presets for sampling in SAMPLINGS
                            for lo, hi in _chunks(n, STATES_SHARD_ROWS)]
                for i, (preset, sampling, lo, hi) in enumerate(segments):
                    base = SEED_BASE[split]
                    jobs.append(Job(_shard_name(config, split, i, len(segments)), config, split, "states",
                                    (game, preset, sampling, base + lo, base + hi), hi - lo,
                                    (hi - lo) * _COST["states"] * (4 if sampling == "late-game" else 1)))
        if "episodes" in spec.configs and spec.episodes:
            config = f"episodes-{game}"
            segments = [(preset, policy, lo, hi) for preset in presets for policy in spec.policies
                        for lo, hi in _chunks(spec.episodes, EPISODES_PER_SHARD)]
            for i, (preset, policy, lo, hi) in enumerate(segments):
                jobs.append(Job(_shard_name(config, "train", i, len(segments)), config, "train", "episodes",
                                (game, preset, policy, lo, hi, spec.steps), (hi - lo) * spec.steps,
                                (hi - lo) * spec.steps * _COST["episodes"]))
    if "manifests" in spec.configs:
        from ..eval.suites import get_suite

        for suite in PUBLISHED_SUITES:
            n = len(get_suite(suite).episodes)
            jobs.append(Job(f"manifests/{suite}-00000-of-00001.parquet", "manifests", suite, "manifests", (suite,), n,
                            n * _COST["manifests"]))
            jobs.append(Job(f"manifests/{suite}.json", None, None, "manifest-json", (suite,), None, n * _COST["manifests"]))
    if "shisensho-images" in spec.games:
        jobs.append(Job(TILEPACK_LICENSE, None, None, "license", (), None, 0.0))
    return jobs


# -- running one job (in a worker) -------------------------------------------------------------------------
_ENVS = None
_ORACLE = None


def _rows(job: Job) -> Iterable[dict[str, Any]]:
    global _ENVS, _ORACLE
    from . import sampling

    if _ENVS is None:
        _ENVS = sampling.EnvCache()
    if job.kind == "perception":
        game, preset, lo, hi = job.params
        overrides = sampling.overrides_for(game)
        env = _ENVS.get(game, preset, overrides)
        for seed in range(lo, hi):
            yield sampling.perception_row(env, preset, overrides, seed)
    elif job.kind == "states":
        from ..eval.policies import OraclePolicy

        if _ORACLE is None:
            _ORACLE = OraclePolicy()
        game, preset, samp, lo, hi = job.params
        overrides = sampling.overrides_for(game)
        env = _ENVS.get(game, preset, overrides)
        for seed in range(lo, hi):
            yield sampling.states_row(env, preset, overrides, samp, seed, _ORACLE)
    elif job.kind == "episodes":
        game, preset, policy, lo, hi, steps = job.params
        overrides = sampling.overrides_for(game)
        env = _ENVS.get(game, preset, overrides)
        for index in range(lo, hi):
            yield from sampling.episode_rows(env, preset, overrides, policy, index, steps)
    elif job.kind == "manifests":
        yield from sampling.manifest_rows(job.params[0])
    else:  # pragma: no cover - plan() only makes the kinds above
        raise ValueError(f"unknown job kind {job.kind!r}")


def _kind_of(config: str) -> str:
    return config.split("-", 1)[0]


def write_parquet(rows: Sequence[dict[str, Any]], kind: str, path: Path, schema: Any = None) -> None:
    """Write rows of a config kind to ``path`` deterministically (fixed schema, options and row groups).

    ``schema`` (the kind's :func:`~g1bench.data.schema.arrow_schema`) saves a worker from importing ``datasets``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .schema import COLUMNS, arrow_schema

    schema = schema if schema is not None else arrow_schema(kind)
    table = pa.Table.from_pydict({name: [r[name] for r in rows] for name, _, _ in COLUMNS[kind]}, schema=schema)
    has_images = any(t == "image" for _, t, _ in COLUMNS[kind])
    pq.write_table(table, path, row_group_size=IMAGE_ROW_GROUP if has_images else max(1, len(rows)),
                   **PARQUET_OPTIONS)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def run_job(job: Job, stage: str, schema: Any = None) -> tuple[str, float]:
    """Build one file into ``stage`` (as ``<name>.part``, renamed when complete). Returns (path, seconds)."""
    t0 = time.perf_counter()
    target = Path(stage) / job.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if job.kind == "manifest-json":
        from .sampling import manifest_json

        _atomic_write(target, manifest_json(job.params[0]))
    elif job.kind == "license":
        from importlib import resources

        _atomic_write(target, resources.files("g1bench").joinpath("assets/tilepack/LICENSE").read_bytes())
    else:
        rows = list(_rows(job))
        if len(rows) != job.rows:
            raise RuntimeError(f"{job.path}: made {len(rows)} rows, expected {job.rows}")
        part = target.with_name(target.name + ".part")
        write_parquet(rows, _kind_of(job.config), part, schema)
        os.replace(part, target)
    return job.path, time.perf_counter() - t0


def _run_job_safely(args: tuple[Job, str, Any]) -> tuple[str, float, str | None]:
    job, stage, schema = args
    try:
        path, dt = run_job(job, stage, schema)
        return path, dt, None
    except BaseException as e:  # report to the parent with the traceback
        return job.path, 0.0, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"


# -- the folder ---------------------------------------------------------------------------------------------
def _is_ours(out: Path) -> bool:
    if (out / STAGE / "plan.json").exists():
        return True
    card = out / CARD
    if card.exists():
        head = card.read_text(errors="replace")
        return "<!-- g1bench-build-id:" in head or "<!-- g1bench-from-run:" in head
    return False


def card_build_id(out: Path) -> str | None:
    card = out / CARD
    if not card.exists():
        return None
    for line in card.read_text(errors="replace").splitlines():
        if line.startswith("<!-- g1bench-build-id:"):
            return line.split(":", 1)[1].strip(" ->")
    return None


def prepare_folder(out: Path, plan_data: dict[str, Any], resume: bool, overwrite: bool, what: str) -> str:
    """Check the output folder and set up the staging area. Returns "fresh", "resume" or "complete"."""
    if resume and overwrite:
        raise DataError("--resume and --overwrite exclude each other")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} exists and is not a folder")
    entries = [p for p in out.iterdir()] if out.exists() else []
    stage = out / STAGE
    state = "fresh"
    if entries:
        if overwrite:
            if not _is_ours(out):
                raise DataError(f"{out} is not empty and is not a g1bench dataset folder; refusing to delete it "
                                "(choose an empty or new folder)")
            for p in entries:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        elif resume:
            plan_file = stage / "plan.json"
            if plan_file.exists():
                try:
                    old = json.loads(plan_file.read_text())
                except ValueError:
                    old = None
                if old != json.loads(json.dumps(plan_data)):
                    raise DataError(f"{out} holds an interrupted {what} made with different options; rerun that exact "
                                    "command with --resume, or pass --overwrite to start again")
                state = "resume"
            elif card_build_id(out) == plan_data.get("build_id"):
                return "complete"
            else:
                raise DataError(f"{out} is not empty and holds no interrupted {what} to resume; "
                                "pass --overwrite to replace it or choose an empty folder")
        else:
            if (stage / "plan.json").exists() and what == "build":
                hint = " It holds an interrupted build: pass --resume to finish it or --overwrite to start again."
            elif (stage / "plan.json").exists():
                hint = f" It holds an interrupted {what}: pass --overwrite to start it again."
            else:
                hint = " Pass --overwrite to replace it, or choose an empty folder."
            raise DataError(f"output folder {out} is not empty.{hint}")
    stage.mkdir(parents=True, exist_ok=True)
    if state == "fresh":
        _atomic_write(stage / "plan.json", (json.dumps(plan_data, indent=1, sort_keys=True) + "\n").encode())
    for part in stage.rglob("*.part"):  # half-written files of a killed run
        part.unlink()
    return state


def _done(out: Path, job: Job) -> Path | None:
    """Where a finished copy of the job's file is (final place or staging), or None."""
    for base in (out, out / STAGE):
        p = base / job.path
        if p.exists():
            if job.rows is None:
                return p
            try:
                import pyarrow.parquet as pq

                if pq.read_metadata(p).num_rows == job.rows:
                    return p
            except Exception:
                pass
            p.unlink()  # unreadable or wrong size: redo it
    return None


def run_jobs(jobs: Sequence[Job], stage: Path, workers: int, log: Log) -> None:
    """Run jobs (slowest first) on ``workers`` processes (0 or 1: in this process)."""
    if not jobs:
        return
    from .schema import arrow_schema

    order = sorted(jobs, key=lambda j: -j.cost)
    schemas = {k: arrow_schema(k) for k in {_kind_of(j.config) for j in order if j.config}}
    tasks = [(j, str(stage), schemas.get(_kind_of(j.config)) if j.config else None) for j in order]
    total = len(order)
    done = 0
    t0 = time.perf_counter()

    def report(path: str, dt: float) -> None:
        nonlocal done
        done += 1
        log(f"[{done}/{total}] {path} ({dt:.1f} s, {time.perf_counter() - t0:.1f} s elapsed)")

    if workers <= 1 or total == 1:
        for task in tasks:
            path, dt, err = _run_job_safely(task)
            if err:
                raise DataError(f"building {path} failed: {err}")
            report(path, dt)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes=min(workers, total)) as pool:
        try:
            for path, dt, err in pool.imap_unordered(_run_job_safely, tasks):
                if err:
                    raise DataError(f"building {path} failed: {err}")
                report(path, dt)
        except BaseException:
            pool.terminate()
            raise


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class FileInfo:
    """One file of a dataset folder; ``data_bytes`` is the uncompressed size of a parquet file's data."""

    path: str
    config: str | None
    split: str | None
    rows: int | None
    bytes: int
    sha256: str
    data_bytes: int = 0


def file_info(out: Path, job: Job) -> FileInfo:
    p = out / job.path
    rows = data_bytes = None
    if job.rows is not None:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(p)
        rows = meta.num_rows
        data_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return FileInfo(job.path, job.config, job.split, rows, p.stat().st_size, sha256_file(p), data_bytes or 0)


@dataclass
class BuildReport:
    """What a build produced: every file with its rows, size and SHA-256, and how long it took."""

    out: Path
    files: list[FileInfo] = field(default_factory=list)
    seconds: float = 0.0
    state: str = "fresh"

    def rows(self, config_prefix: str = "") -> int:
        return sum(f.rows or 0 for f in self.files if f.config and f.config.startswith(config_prefix))

    def bytes(self, config_prefix: str = "") -> int:
        return sum(f.bytes for f in self.files if f.config and f.config.startswith(config_prefix))


def finish(out: Path, jobs: Sequence[Job], render_card: Callable[[list[FileInfo]], str]) -> list[FileInfo]:
    """Move staged files into place, write the card last, remove the staging area."""
    stage = out / STAGE
    infos = []
    for job in jobs:
        staged, final = stage / job.path, out / job.path
        if staged.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        if not final.exists():
            raise DataError(f"{job.path} is missing after the build; rerun with --resume")
        infos.append(file_info(out, job))
    card = render_card(infos)
    _atomic_write(out / CARD, card.encode())
    shutil.rmtree(stage, ignore_errors=True)
    return infos


def build_dataset(out: str | os.PathLike, spec: BuildSpec, workers: int = 2, resume: bool = False,
                  overwrite: bool = False, log: Log | None = None) -> BuildReport:
    """Build the dataset folder ``out`` for ``spec``.

    Args:
        out: output folder; must be empty or absent unless ``resume`` (finish an interrupted build of the
            same spec) or ``overwrite`` (delete a previous g1bench dataset there first).
        spec: what to build (see :func:`make_spec`).
        workers: processes to build with (0 or 1: this process). The output does not depend on it.
        log: progress callback (default: print to stderr).

    Returns:
        A :class:`BuildReport`.

    Raises:
        DataError: bad options, a non-empty folder, or a failed job (with its traceback).

    Example:
        >>> build_dataset("out", make_spec(configs="perception", games="2048", presets="paper", train=10, test=5))
    """
    from .card import render_build_card

    log = log or (lambda msg: print(msg, file=sys.stderr))
    out = Path(out)
    t0 = time.perf_counter()
    plan_data = {"kind": "build", "spec": spec.to_dict(), "build_id": spec.build_id()}
    jobs = plan(spec)
    if not any(j.config for j in jobs):
        raise DataError("nothing to build: every selected config has 0 rows (check --configs and the row counts)")
    state = prepare_folder(out, plan_data, resume, overwrite, "build")
    report = BuildReport(out, state=state)
    if state == "complete":
        log(f"{out} is already a complete build of this command; nothing to do")
        report.files = [file_info(out, job) for job in jobs]
        return report
    todo = [j for j in jobs if _done(out, j) is None]
    if state == "resume":
        log(f"resuming: {len(jobs) - len(todo)} of {len(jobs)} files already built")
    run_jobs(todo, out / STAGE, workers, log)
    report.files = finish(out, jobs, lambda infos: render_build_card(spec, infos))
    report.seconds = time.perf_counter() - t0
    return report


__all__ = [
    "CONFIG_KINDS", "POLICIES", "PUBLISHED_SUITES", "BuildReport", "BuildSpec", "FileInfo", "Job",
    "build_dataset", "make_spec", "plan", "run_job", "write_parquet", "canonical_json",
]
