"""What the Space's operator configures: folders, the results store, the Space's own model endpoint and limits.

Every setting comes from an environment variable (a Space sets them as variables and secrets) and can be
overridden on the command line (``g1bench space --help``). Nothing here is visitor input.

==========================================  ==================================================================
``G1BENCH_SPACE_RUNS_DIR``                  folder of run directories offered in Replay (default ``runs``)
``G1BENCH_SPACE_RECORD_DIR``                folder where opted-in human games are written as a dataset
                                            (unset: recording is not offered)
``G1BENCH_SPACE_BASE_URL``                  the Space's own OpenAI-compatible endpoint (Watch offers it)
``G1BENCH_SPACE_MODEL``                     the model name that endpoint serves
``G1BENCH_SPACE_API_KEY_ENV``               the name of the secret holding that endpoint's key
                                            (default ``G1BENCH_SPACE_API_KEY``; optional)
``G1BENCH_SPACE_ALLOW_PRIVATE_ENDPOINTS``   ``1``: visitors may name loopback/private addresses (local use only)
``G1BENCH_SPACE_MODEL_TIMEOUT_S``           seconds the Space's own model may take per step in Watch (default 60)
``G1BENCH_SPACE_VISITOR_STEP_LIMIT_S``      seconds a visitor's endpoint may take per step in Watch (default 20;
                                            stated on the page; a slower answer is not played)
``G1BENCH_SPACE_SUBMIT_WORKERS``            submissions verified at once (default 2; the others wait in line)
``G1BENCH_SPACE_CODE_URL``                  where g1bench's code is (About; default its GitHub repo)
``G1BENCH_SPACE_DATASETS``                  the Hub dataset repo of g1bench's datasets (About; optional)
``G1BENCH_SPACE_MAX_UPLOAD_MB``             largest zip a visitor may upload (default 100)
``G1BENCH_SPACE_MAX_UNZIPPED_MB``           most bytes an upload may unpack to (default 500)
``G1BENCH_SPACE_MAX_ZIP_FILES``             most files in an uploaded zip (default 20000)
``G1BENCH_SPACE_WORK_DIR``                  scratch folder for frames, uploads and GIFs (default: a new
                                            folder in the system temp dir)
``G1BENCH_SPACE_RESULTS``                   the results store the Leaderboard, Replay and Submit tabs use: a
                                            Hub dataset repo (``ORG/NAME``, ``hf://datasets/ORG/NAME``) or a
                                            folder (default: ``$G1BENCH_RESULTS_REPO``, else the local store,
                                            ``$G1BENCH_RESULTS_DIR`` or ``~/.local/share/g1bench/results``)
``G1BENCH_SPACE_DEMO_STORE``                a store shown instead while the results store has no entries
                                            (default: this checkout's ``leaderboard/`` folder, g1bench's own
                                            committed baselines, when it exists; ``none``: no demo)
``G1BENCH_SPACE_WRITE_TOKEN_ENV``           the secret holding a Hub token that may write the results repo
                                            (default ``HF_TOKEN``); set: Submit adds verified runs to a Hub
                                            store, unset: Submit shows the ``g1bench push`` command instead
``G1BENCH_SPACE_ACCEPT_LOCAL``              ``1``: Submit adds verified runs to a *local* results store too
                                            (a Space's own disk; off by default)
``G1BENCH_SPACE_WARM_TILES``                ``0``: do not load the natural-image tiles (CIFAR-10) at start-up
                                            (default on: a visitor never waits for the download)
``G1BENCH_SPACE_PRELOAD``                   ``0``: aggregate the leaderboard when it is first opened, not at
                                            start-up
==========================================  ==================================================================
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "G1BENCH_SPACE_"
DEFAULT_API_KEY_ENV = "G1BENCH_SPACE_API_KEY"
DEFAULT_WRITE_TOKEN_ENV = "HF_TOKEN"
DEFAULT_CODE_URL = "https://github.com/g1bench/g1bench"
#: what turns an optional folder setting off
_NONE = ("", "none", "off", "0", "false", "no")


def default_demo_store() -> Path | None:
    """This checkout's ``leaderboard/`` folder (g1bench's committed paper-suite baselines, a results store) when
    g1bench runs from a source checkout that has it; None for an installed wheel."""
    import g1bench

    folder = Path(g1bench.__file__).resolve().parent.parent / "leaderboard"
    return folder if (folder / "entries").is_dir() else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SpaceSettings:
    """The operator's configuration of one running Space (immutable; shared read-only by every session)."""

    runs_dir: Path | None = field(default=Path("runs"), metadata={"help": "folder of run directories offered in Replay"})
    record_dir: Path | None = field(default=None, metadata={
        "help": "folder where opted-in human games are written as an episodes dataset (None: not offered)"})
    model_base_url: str | None = field(default=None, metadata={"help": "the Space's own OpenAI-compatible endpoint"})
    model_name: str | None = field(default=None, metadata={"help": "the model name the Space's endpoint serves"})
    model_api_key_env: str = field(default=DEFAULT_API_KEY_ENV, metadata={
        "help": "name of the environment variable (Space secret) holding the Space endpoint's key"})
    allow_private_endpoints: bool = field(default=False, metadata={
        "help": "let visitors name loopback/private network addresses as their endpoint (local use only)"})
    max_upload_mb: int = field(default=100, metadata={"help": "largest zip a visitor may upload (MB)"})
    max_unzipped_mb: int = field(default=500, metadata={"help": "most bytes an uploaded zip may unpack to (MB)"})
    max_zip_files: int = field(default=20_000, metadata={"help": "most files in an uploaded zip"})
    model_timeout_s: float = field(default=60.0, metadata={
        "help": "seconds the Space's own model may take per step in Watch"})
    visitor_step_limit_s: float = field(default=20.0, metadata={
        "help": "seconds a visitor's own endpoint may take per step in Watch (a slower answer is not played)"})
    submit_workers: int = field(default=2, metadata={"help": "submissions verified at once (the others wait in line)"})
    code_url: str = field(default=DEFAULT_CODE_URL, metadata={"help": "where g1bench's code is (the About tab links it)"})
    datasets_repo: str | None = field(default=None, metadata={
        "help": "the Hub dataset repo of g1bench's datasets (ORG/NAME; the About tab links it)"})
    work_dir: Path | None = field(default=None, metadata={
        "help": "scratch folder for frames, uploads and GIFs (None: a new folder in the system temp dir)"})
    results_store: str | None = field(default=None, metadata={
        "help": "results store: ORG/NAME (Hub dataset) or a folder (None: $G1BENCH_RESULTS_REPO, else the local store)"})
    demo_store: Path | None = field(default_factory=default_demo_store, metadata={
        "help": "store shown while the results store has no entries (default: the checkout's leaderboard/ folder)"})
    write_token_env: str = field(default=DEFAULT_WRITE_TOKEN_ENV, metadata={
        "help": "environment variable (Space secret) holding a Hub token that may write the results repo"})
    accept_local_submissions: bool = field(default=False, metadata={
        "help": "Submit adds verified runs to a local results store (off: only a Hub store with a write token)"})
    warm_tiles: bool = field(default=True, metadata={
        "help": "load the natural-image tiles (CIFAR-10) in the background at start-up"})
    preload_leaderboard: bool = field(default=True, metadata={
        "help": "aggregate the leaderboard in the background at start-up (off: when first opened)"})

    def __post_init__(self) -> None:
        for name in ("runs_dir", "record_dir", "work_dir", "demo_store"):  # accept str paths
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if self.work_dir is None:
            object.__setattr__(self, "work_dir", Path(tempfile.mkdtemp(prefix="g1bench-space-")))
        for name in ("max_upload_mb", "max_unzipped_mb", "max_zip_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("model_timeout_s", "visitor_step_limit_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.submit_workers < 1:
            raise ValueError(f"submit_workers must be >= 1, got {self.submit_workers}")

    @property
    def has_space_model(self) -> bool:
        """Whether the operator configured a model endpoint that Watch offers."""
        return bool(self.model_base_url and self.model_name)

    @property
    def recording_enabled(self) -> bool:
        return self.record_dir is not None

    @property
    def write_token(self) -> str | None:
        """The Hub write token from the operator's secret (never shown, logged or sent to a visitor)."""
        value = os.environ.get(self.write_token_env, "").strip()
        return value or None

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mb * 1024 * 1024

    def scratch(self, name: str) -> Path:
        """A sub-folder of the work dir (created on first use)."""
        assert self.work_dir is not None
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def results_folder(self) -> Path | None:
        """The results store's folder when it is a local store (None for a Hub store or one that cannot be named)."""
        try:
            from ..leaderboard.store import LocalStore, open_store

            store = open_store(self.results_store)
        except Exception:  # noqa: BLE001 - a store that cannot be opened says so elsewhere
            return None
        return store.root if isinstance(store, LocalStore) else None

    def private_folders(self) -> list[tuple[Path, str]]:
        """``(folder, label)`` for every folder of this machine that a visitor must never see named: the results
        and demo stores, the runs, recordings and scratch folders, g1bench's cache, gradio's uploads, the temp and
        home folders (see :class:`g1bench.space.text.PathScrubber`)."""
        from ..leaderboard.store import cache_dir, default_local_dir

        out: list[tuple[Path | None, str]] = [
            (self.results_folder(), "[results store]"), (self.demo_store, "[demo store]"),
            (default_local_dir(), "[local results store]"), (self.runs_dir, "[runs folder]"),
            (self.record_dir, "[recordings folder]"), (self.work_dir, "[Space files]"), (cache_dir(), "[cache]")]
        for name in ("GRADIO_TEMP_DIR", "HF_HOME", "HF_DATASETS_CACHE", "HF_HUB_CACHE"):
            if os.environ.get(name):
                out.append((Path(os.environ[name]), "[Space files]"))
        out += [(Path(tempfile.gettempdir()), "[temp]"), (Path.home(), "[home]"), (Path.cwd(), "[Space folder]")]
        return [(p, label) for p, label in out if p is not None]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "SpaceSettings":
        """Settings from ``G1BENCH_SPACE_*`` variables; keyword overrides that are not None win.

        Raises:
            ValueError: a variable that does not parse (named in the message).
        """
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        if (v := get("RUNS_DIR")) is not None:
            kw["runs_dir"] = Path(v)
        if (v := get("RECORD_DIR")) is not None:
            kw["record_dir"] = Path(v)
        kw["model_base_url"] = get("BASE_URL")
        kw["model_name"] = get("MODEL")
        if (v := get("API_KEY_ENV")) is not None:
            kw["model_api_key_env"] = v
        kw["allow_private_endpoints"] = _flag(get("ALLOW_PRIVATE_ENDPOINTS"))
        for name, key, kind in (("max_upload_mb", "MAX_UPLOAD_MB", int), ("max_unzipped_mb", "MAX_UNZIPPED_MB", int),
                                ("max_zip_files", "MAX_ZIP_FILES", int), ("model_timeout_s", "MODEL_TIMEOUT_S", float),
                                ("visitor_step_limit_s", "VISITOR_STEP_LIMIT_S", float),
                                ("submit_workers", "SUBMIT_WORKERS", int)):
            if (v := get(key)) is not None:
                try:
                    kw[name] = kind(v)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{key}={v!r} is not a number") from None
        if (v := get("WORK_DIR")) is not None:
            kw["work_dir"] = Path(v)
        kw["results_store"] = get("RESULTS")
        if (v := get("CODE_URL")) is not None:
            kw["code_url"] = v
        kw["datasets_repo"] = get("DATASETS")
        raw = env.get(ENV_PREFIX + "DEMO_STORE")
        if raw is not None:
            kw["demo_store"] = None if raw.strip().lower() in _NONE else Path(raw.strip())
        if (v := get("WRITE_TOKEN_ENV")) is not None:
            kw["write_token_env"] = v
        kw["accept_local_submissions"] = _flag(get("ACCEPT_LOCAL"))
        for name, key in (("warm_tiles", "WARM_TILES"), ("preload_leaderboard", "PRELOAD")):
            if (v := get(key)) is not None:
                kw[name] = v.lower() not in _NONE
        kw.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(kw) - known
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}")
        return cls(**kw)


__all__ = ["SpaceSettings", "ENV_PREFIX", "DEFAULT_API_KEY_ENV", "DEFAULT_WRITE_TOKEN_ENV", "DEFAULT_CODE_URL",
           "default_demo_store"]
