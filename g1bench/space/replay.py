"""The Replay tab's backend: step through a finished run's episodes, frame by frame, or get a GIF.

A run comes from the Space's runs folder (picked by name from a list; a name is never a path), from an
entry of the results store (picked from the verified entries of the last aggregation, fetched once with
:meth:`g1bench.leaderboard.store.Store.fetch_entry` into a folder named by a hash) or from a zip a visitor
uploads. Steps whose frame is not stored (entries are usually pushed without frames) are drawn by replaying
the episode's logged answers through the game (:func:`g1bench.eval.steps.play_answer`, the step the runner
and the verifier use), for episodes of the built-in suites only; each drawn frame's state is checked
against the log's state hash, and drawing stops at the first step that differs.

Runs are read only through :func:`g1bench.eval.runner.load_episodes` and the run's ``frames/`` folder. An upload is checked before anything is unpacked — its size, the number of
entries, absolute paths, ``..`` components, links and special files, encrypted entries, the total
unpacked size and compression ratios (zip bombs) — and is unpacked by a streaming copy that stops at the
declared sizes. Only data files are unpacked (JSON, JSONL, PNG and text); nothing uploaded is executed.
Frame ids from a run's records must be plain names, so a record cannot point a read outside ``frames/``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import SpaceError
from .frames import FrameStore
from .settings import SpaceSettings
from .leaderboard import LeaderboardService, entry_dest
from .text import esc
from .warmup import TileWarmup

REPLAY_FORMAT = "g1bench-space-replay/1"
#: what an uploaded zip may unpack (everything else in it is skipped)
DATA_SUFFIXES = (".json", ".jsonl", ".png", ".txt", ".md", ".yaml", ".yml", ".csv")
#: a ratio no run's files reach (PNG frames hardly compress, step logs 10-30x); beyond it, a zip bomb
MAX_COMPRESSION_RATIO = 200
MAX_NAME_CHARS = 400
MAX_FRAME_BYTES = 20 * 1024 * 1024
MAX_SHOWN_CHARS = 20_000
#: runs with more frames than this get no GIF here (``g1bench report --videos`` makes them anywhere)
MAX_GIF_FRAMES = 20_000
MAX_LISTED_RUNS = 500
_FRAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class ReplaySession:
    """The run and episode a visitor is looking at.

    ``run_path`` is a server-side folder chosen by the app (never typed by the visitor); ``upload_dir``
    is the visitor's unpacked upload, removed when replaced or when the session ends.
    """

    label: str
    run_path: str
    episodes: list[dict[str, Any]]
    episode_id: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    index: int = 0
    upload_dir: str | None = None
    format: str = REPLAY_FORMAT


@dataclass
class ReplayView:
    """What the Replay tab shows."""

    frame: str | None
    info: str
    answer: str
    n_steps: int
    index: int
    episode_choices: list[tuple[str, str]]
    episode_id: str | None


# -- uploads ------------------------------------------------------------------------------------------
def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check_zip(path: str | os.PathLike, settings: SpaceSettings) -> list[zipfile.ZipInfo]:
    """The entries of an uploaded zip to unpack, after every check; else a SpaceError saying why."""
    try:
        size = os.path.getsize(path)
    except OSError:
        raise SpaceError("the upload could not be read; upload the zip again") from None
    if size > settings.max_upload_bytes:
        raise SpaceError(f"the zip is {_mb(size)}; the limit is {settings.max_upload_mb} MB")
    if not zipfile.is_zipfile(path):
        raise SpaceError("the upload is not a zip file")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError) as e:
        raise SpaceError(f"the zip cannot be read ({type(e).__name__})") from None
    if len(infos) > settings.max_zip_files:
        raise SpaceError(f"the zip holds {len(infos)} entries; the limit is {settings.max_zip_files}")
    total, seen, keep = 0, set(), []
    for info in infos:
        name = info.filename
        shown = name[:80]
        if len(name) > MAX_NAME_CHARS or "\x00" in name:
            raise SpaceError(f"the zip has an entry with an invalid name ({shown!r})")
        norm = name.replace("\\", "/")
        if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
            raise SpaceError(f"the zip has an absolute path ({shown!r}); zip the run folder with relative paths")
        parts = [p for p in norm.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise SpaceError(f"the zip has a path that leaves its folder ({shown!r})")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise SpaceError(f"the zip holds a link ({shown!r}); links are not accepted")
        # no file-type bits (Python's zipfile.writestr, Windows tools) is a plain file
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise SpaceError(f"the zip holds a special file ({shown!r})")
        if info.flag_bits & 0x1:
            raise SpaceError(f"the zip holds an encrypted entry ({shown!r})")
        if info.is_dir() or not parts:
            continue
        key = "/".join(parts).lower()
        if key in seen:
            raise SpaceError(f"the zip holds the same path twice ({shown!r})")
        seen.add(key)
        total += info.file_size
        if total > settings.max_unzipped_bytes:
            raise SpaceError(f"the zip unpacks to more than {settings.max_unzipped_mb} MB; the limit is "
                             f"{settings.max_unzipped_mb} MB")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise SpaceError(f"the zip entry {shown!r} is compressed more than {MAX_COMPRESSION_RATIO}x "
                             "(a zip bomb?); refused")
        if parts[-1].lower().endswith(DATA_SUFFIXES):
            keep.append(info)
    return keep


def extract_zip(path: str | os.PathLike, dest: str | os.PathLike, settings: SpaceSettings) -> Path:
    """Check ``path`` (:func:`check_zip`) and unpack its data files into the new folder ``dest``."""
    entries = check_zip(path, settings)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=False)
    root = dest.resolve()
    written = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in entries:
                parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
                target = dest.joinpath(*parts)
                if root not in target.resolve().parents:
                    raise SpaceError(f"the zip has a path that leaves its folder ({info.filename[:80]!r})")
                target.parent.mkdir(parents=True, exist_ok=True)
                left = info.file_size
                with zf.open(info) as src, open(target, "xb") as out:
                    while True:
                        chunk = src.read(min(1024 * 1024, left + 1))
                        if not chunk:
                            break
                        left -= len(chunk)
                        written += len(chunk)
                        if left < 0 or written > settings.max_unzipped_bytes:
                            raise SpaceError("the zip's entries are larger than they declare; refused")
                        out.write(chunk)
    except SpaceError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as e:
        shutil.rmtree(dest, ignore_errors=True)
        raise SpaceError(f"the zip could not be unpacked ({type(e).__name__}); is it complete?") from None
    return dest


# -- reading runs -------------------------------------------------------------------------------------
def _load(run_path: Path) -> list[dict[str, Any]]:
    from ..eval.runner import load_episodes

    try:
        episodes = load_episodes(run_path)
    except (RuntimeError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        raise SpaceError(f"not a readable g1bench run: {str(e)[:200]}") from None
    if not isinstance(episodes, list):
        raise SpaceError("not a readable g1bench run")
    for e in episodes:
        if not isinstance(e, dict) or not isinstance(e.get("episode_id"), str) or not isinstance(e.get("steps"), list):
            raise SpaceError("the run has a malformed episode record")
        for s in e["steps"]:
            if not isinstance(s, dict):
                raise SpaceError(f"episode {e['episode_id'][:60]!r} has a malformed step")
            fid = s.get("frame")
            if fid is not None and (not isinstance(fid, str) or not _FRAME_ID.match(fid)):
                raise SpaceError(f"episode {e['episode_id'][:60]!r} names a frame that is not a plain id")
    return episodes


def _summary(e: dict[str, Any]) -> dict[str, Any]:
    return {"episode_id": e["episode_id"][:200], "game": str(e.get("game", "?"))[:40],
            "difficulty": str(e.get("difficulty", "?"))[:40], "seed": e.get("seed"), "score": e.get("score"),
            "n_steps": len(e["steps"])}


def _step_fields(s: dict[str, Any]) -> dict[str, Any]:
    """The fields of a step record the view shows (model answers are cut to a readable length)."""
    answer = s.get("answer")
    answer = answer if isinstance(answer, str) else ("" if answer is None else str(answer))
    return {"frame": s.get("frame"), "answer": answer[:MAX_SHOWN_CHARS], "action": s.get("action"),
            "reward": s.get("reward"), "score_delta": s.get("score_delta"), "parse_error": s.get("parse_error"),
            "reason": s.get("reason"), "perception_ok": s.get("perception_ok"), "format_ok": s.get("format_ok"),
            "fallback_action": s.get("fallback_action"), "latency_s": s.get("latency_s")}


def _gif_name(episode_id: str) -> str:
    from ..core.hashing import content_hash

    return content_hash(["gif", episode_id])


class GifMaker:
    """Encodes GIFs in one worker thread, one at a time, each GIF once: a visitor asking for a GIF that is being
    made waits for that same encoding (keyed by its path: one per run and episode)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-gif")
        self._lock = threading.Lock()
        self._jobs: dict[str, Any] = {}

    def make(self, path: Path, frames_dir: Path, ids: list[str], timeout: float) -> str:
        """``path`` written from the frames ``ids`` of ``frames_dir`` (at most once), within ``timeout`` seconds."""
        from concurrent.futures import TimeoutError as FutureTimeout

        from ..eval.gifs import write_gif

        key = str(path)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                job = self._jobs[key] = self._pool.submit(write_gif, frames_dir, path, ids, 250)
                job.add_done_callback(lambda _f, k=key: self._forget(k))
        try:
            return job.result(timeout=timeout)
        except FutureTimeout:
            raise SpaceError("the GIF is taking long (other GIFs are being made); try again in a minute") from None

    def _forget(self, key: str) -> None:
        with self._lock:
            self._jobs.pop(key, None)


class ReplayBackend:
    """Replay-tab actions (holds only the app's read-only services)."""

    def __init__(self, settings: SpaceSettings, frames: FrameStore, leaderboard: LeaderboardService | None = None,
                 warmup: TileWarmup | None = None):
        self.settings = settings
        self.frames = frames
        self.leaderboard = leaderboard
        self.warmup = warmup
        self.gifs = GifMaker()

    # -- entries of the results store ----------------------------------------------------------------
    def entry_choices(self) -> list[tuple[str, str]]:
        """(label, entry id) of the verified entries of the last aggregation of the results store."""
        snap = self.leaderboard.snapshot() if self.leaderboard is not None else None
        return snap.entry_choices() if snap is not None else []

    def open_entry(self, entry_id: Any, previous: Any = None) -> tuple[ReplaySession, ReplayView]:
        """Open a verified entry of the results store (fetched once per process, into a folder named by a hash)."""
        from ..leaderboard.entry import EntryError
        from ..leaderboard.store import StoreError

        snap = self.leaderboard.snapshot() if self.leaderboard is not None else None
        if snap is None:
            raise SpaceError("the results store is still being read; try again in a moment")
        labels = dict((e, lbl) for lbl, e in snap.entry_choices())
        if not isinstance(entry_id, str) or entry_id not in labels:
            raise SpaceError(f"no verified entry {str(entry_id)[:80]!r} in the results store; pick one from the list "
                             "(press Refresh list after a new submission)")
        dest = entry_dest(self.settings.scratch("entries"), snap.source, entry_id)
        if not dest.is_dir():
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
            try:
                snap.store.fetch_entry(entry_id, dest=tmp, frames=True)
                os.rename(tmp, dest)
            except (StoreError, EntryError, OSError, ValueError) as e:
                shutil.rmtree(tmp, ignore_errors=True)
                if not dest.is_dir():  # another visitor may have fetched it meanwhile
                    raise SpaceError(f"the entry could not be fetched from the results store: {str(e)[:200]}") from None
        session = self._open(dest, f"entry: {labels[entry_id]}", None)
        self.discard(previous)
        return session, self.view(session)

    def list_runs(self) -> list[str]:
        """Names of the runs in the runs folder (folders with a ``frames/`` folder), newest first."""
        root = self.settings.runs_dir
        if root is None or not root.is_dir():
            return []
        found = []
        try:
            for p in root.iterdir():
                if p.is_dir() and not p.is_symlink() and (p / "frames").is_dir():
                    found.append((p.stat().st_mtime, p.name))
        except OSError:
            return []
        return [name for _, name in sorted(found, reverse=True)[:MAX_LISTED_RUNS]]

    def open_run(self, name: Any, previous: Any = None) -> tuple[ReplaySession, ReplayView]:
        """Open the run called ``name`` in the runs folder."""
        if not isinstance(name, str) or name not in self.list_runs():
            raise SpaceError(f"no run called {str(name)[:80]!r} in this Space's runs folder; pick one from the list")
        assert self.settings.runs_dir is not None
        session = self._open(self.settings.runs_dir / name, name, None)
        self.discard(previous)
        return session, self.view(session)

    def open_upload(self, file: Any, previous: Any = None) -> tuple[ReplaySession, ReplayView]:
        """Check, unpack and open an uploaded run zip."""
        path = getattr(file, "path", None) or getattr(file, "name", None) or file
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise SpaceError("upload a zip of a run folder")
        dest = self.settings.scratch("uploads") / uuid.uuid4().hex
        extract_zip(path, dest, self.settings)
        try:
            root = self._find_run(dest)
            session = self._open(root, f"upload: {Path(str(path)).name[:80]}", str(dest))
        except SpaceError:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        self.discard(previous)
        return session, self.view(session)

    def _find_run(self, dest: Path) -> Path:
        candidates = [dest] + sorted(p for p in dest.rglob("*") if p.is_dir() and len(p.relative_to(dest).parts) <= 3)
        last = None
        for c in candidates[:50]:
            if (c / "frames").is_dir() or any(c.glob("*.jsonl")):
                try:
                    _load(c)
                    return c
                except SpaceError as e:
                    last = e
        if last is not None:
            raise last
        raise SpaceError("the zip holds no g1bench run folder (a folder with its step log and frames/)")

    def _open(self, run_path: Path, label: str, upload_dir: str | None) -> ReplaySession:
        episodes = _load(run_path)
        if not episodes:
            raise SpaceError("this run has no finished episode to replay")
        session = ReplaySession(label=label, run_path=str(run_path), episodes=[_summary(e) for e in episodes],
                                upload_dir=upload_dir)
        return self._with_episode(session, episodes[0]["episode_id"], episodes)

    def _with_episode(self, s: ReplaySession, episode_id: str, episodes: list[dict[str, Any]] | None = None) -> ReplaySession:
        episodes = episodes if episodes is not None else _load(Path(s.run_path))
        match = next((e for e in episodes if e["episode_id"] == episode_id), None)
        if match is None:
            raise SpaceError(f"this run has no episode {str(episode_id)[:80]!r}")
        steps = [_step_fields(x) for x in match["steps"]]
        if not all(self._has_frame(s.run_path, x.get("frame")) for x in steps):
            for x, path in zip(steps, self.render_episode(Path(s.run_path), episode_id, match["steps"])):
                x["drawn"] = path
        return replace(s, episode_id=episode_id, steps=steps, index=0)

    def render_episode(self, run_path: Path, episode_id: str, records: list[dict[str, Any]]) -> list[str | None]:
        """Frame files of an episode's steps drawn by replaying its logged answers (see the module docstring);
        None for the steps that cannot be drawn faithfully."""
        from ..core.config import ConfigError, UnknownNameError
        from ..core.env import StateError
        from ..eval.rundir import RunError, read_run_json, run_suite
        from ..eval.steps import play_answer
        from ..eval.suites import SUITES, get_suite, start_game
        from ..tiles import TileSourceError

        out: list[str | None] = [None] * len(records)
        try:
            suite = run_suite(read_run_json(run_path))
            spec = next((e for e in suite.episodes if e.episode_id == episode_id), None)
            # built-in episodes only: their boards have the presets' sizes (an upload cannot ask for a huge one)
            if spec is None or suite.name not in SUITES or spec not in get_suite(suite.name).episodes:
                return out
            if self.warmup is not None:
                self.warmup.check(spec.game, spec.difficulty, spec.overrides)
            env = spec.make_env(render_mode="rgb_array")
            game_index = start_game(spec, env, 0)
            invalid = suite.invalid_answer.get(spec.game)
            for i, rec in enumerate(records[: spec.steps]):
                if rec.get("state_hash") != env.state_hash():
                    break  # the log and the game part ways: draw nothing that was not played
                frame = env.render()
                if rec.get("frame") is not None and rec["frame"] != env.canvas.frame_id:
                    break
                out[i] = self.frames.png_path(frame)
                replayed = play_answer(env, episode_id=episode_id, step=rec["step"], game_index=game_index,
                                       invalid_rule=invalid, before=env._key_info(), frame_id=None, answer=rec)
                if rec["step"] + 1 < spec.steps and replayed["terminated"]:
                    game_index = start_game(spec, env, game_index + 1)
        except SpaceError:
            return out  # tiles still loading: the steps show no frame this time
        except (RunError, ConfigError, UnknownNameError, StateError, TileSourceError, KeyError, TypeError,
                ValueError, OSError) as e:
            import logging

            logging.getLogger("g1bench.space").info("could not draw %s of %s: %s", episode_id, run_path, e)
        return out

    def select_episode(self, session: Any, episode_id: Any) -> tuple[ReplaySession, ReplayView]:
        s = check_replay_session(session)
        if not isinstance(episode_id, str) or episode_id not in {e["episode_id"] for e in s.episodes}:
            raise SpaceError(f"this run has no episode {str(episode_id)[:80]!r}")
        new = self._with_episode(s, episode_id)
        return new, self.view(new)

    def goto(self, session: Any, index: Any) -> tuple[ReplaySession, ReplayView]:
        s = check_replay_session(session)
        if isinstance(index, float) and index.is_integer():
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, int):
            raise SpaceError("the step must be a whole number")
        if not s.steps:
            raise SpaceError("this episode has no steps")
        new = replace(s, index=max(0, min(index, len(s.steps) - 1)))
        return new, self.view(new)

    def shift(self, session: Any, delta: int) -> tuple[ReplaySession, ReplayView]:
        s = check_replay_session(session)
        return self.goto(s, s.index + delta)

    def gif(self, session: Any, timeout: float = 120.0) -> str:
        """An animated GIF of the current episode (4 frames per second), made once per run and episode.

        Only this episode is encoded, from the frame files the view already uses (the run's stored frames, or the
        ones drawn when the episode was opened), each distinct frame decoded once (:func:`g1bench.eval.gifs.write_gif`),
        in the backend's GIF worker thread: visitors asking for the same GIF share one encoding, and a GIF made
        once is served from its file afterwards.
        """
        s = check_replay_session(session)
        if len(s.steps) > MAX_GIF_FRAMES:
            raise SpaceError(f"this episode has {len(s.steps)} steps, too many for a GIF here; run "
                             "`g1bench report RUN --videos`")
        if not s.steps:
            raise SpaceError("this episode has no steps")
        path = self._gif_dir(s) / f"{_gif_name(s.episode_id or '')}.gif"
        if path.is_file():
            return str(path)
        if all(self._has_frame(s.run_path, x.get("frame")) for x in s.steps):
            frames_dir, ids = Path(s.run_path) / "frames", [x["frame"] for x in s.steps]
        else:  # frames not stored (an entry pushed without them): the drawn ones
            drawn = [self._drawn_frame(s, x["drawn"]) if isinstance(x.get("drawn"), str) else None for x in s.steps]
            if any(d is None for d in drawn):
                raise SpaceError("this episode has no stored frames (the run was made with --no-frames?) and cannot be "
                                 "drawn here")
            frames_dir, ids = self.frames.folder, [Path(d).stem for d in drawn]
        try:
            return self.gifs.make(path, frames_dir, ids, timeout)
        except SpaceError:
            raise
        except Exception as e:  # noqa: BLE001 - GifError, OSError, a decompression bomb: one line for the visitor
            raise SpaceError(f"the GIF could not be made ({type(e).__name__})") from None

    def _gif_dir(self, s: ReplaySession) -> Path:
        """Where the GIFs of a session's run are kept (one folder per run and content)."""
        from ..core.hashing import content_hash

        return self.settings.scratch("gifs") / content_hash([s.run_path, [(e["episode_id"], e["n_steps"]) for e in s.episodes]])

    def discard(self, session: Any) -> None:
        """Remove a session's unpacked upload and its GIFs (called when it is replaced or the session ends)."""
        if isinstance(session, ReplaySession) and session.upload_dir:
            uploads = self.settings.scratch("uploads").resolve()
            target = Path(session.upload_dir).resolve()
            if uploads in target.parents:
                shutil.rmtree(target, ignore_errors=True)
                shutil.rmtree(self._gif_dir(session), ignore_errors=True)

    def _frame_path(self, s: ReplaySession, fid: Any) -> str | None:
        return self._stored_frame(s.run_path, fid)

    @staticmethod
    def _has_frame(run_path: str, fid: Any) -> bool:
        """Whether the run stores the frame ``fid`` (a plain file of a sane size; read only when shown)."""
        if not isinstance(fid, str) or not _FRAME_ID.match(fid):
            return False
        try:
            st = (Path(run_path) / "frames" / f"{fid}.png").lstat()
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and 0 < st.st_size <= MAX_FRAME_BYTES

    def _stored_frame(self, run_path: str, fid: Any) -> str | None:
        if not isinstance(fid, str) or not _FRAME_ID.match(fid):
            return None
        path = Path(run_path) / "frames" / f"{fid}.png"
        try:
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FRAME_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if not data.startswith(_PNG_SIGNATURE):
            return None
        return self.frames.bytes_path(data)

    def _drawn_frame(self, s: ReplaySession, path: str) -> str | None:
        """A drawn frame's file, drawn again if the frame store pruned it (its name is its content's hash)."""
        p = Path(path)
        if p.parent.resolve() != self.frames.folder.resolve():
            return None
        if p.is_file():
            return str(p)
        try:
            match = next(e for e in _load(Path(s.run_path)) if e["episode_id"] == s.episode_id)
        except (SpaceError, StopIteration):
            return None
        self.render_episode(Path(s.run_path), s.episode_id or "", match["steps"])
        return str(p) if p.is_file() else None

    def view(self, s: ReplaySession) -> ReplayView:
        choices = [(f"{e['episode_id']} · score {_num(e['score'])}", e["episode_id"]) for e in s.episodes]
        if not s.steps:
            return ReplayView(None, f"**{esc(s.label)}**: this episode has no steps", "", 0, 0, choices, s.episode_id)
        st = s.steps[s.index]
        summary = next((e for e in s.episodes if e["episode_id"] == s.episode_id), {})
        total = sum(float(x.get("reward") or 0) for x in s.steps[: s.index + 1])
        points = sum(float(x.get("score_delta") or 0) for x in s.steps[: s.index + 1])
        frame = self._frame_path(s, st.get("frame"))
        drawn = False
        if frame is None and isinstance(st.get("drawn"), str):
            frame = self._drawn_frame(s, st["drawn"])
            drawn = frame is not None
        game = summary.get("game", "?")
        lines = [f"**{esc(s.label)}** · {esc(game)} / {esc(summary.get('difficulty', '?'))} · seed "
                 f"{esc(summary.get('seed'))} · episode score {_num(summary.get('score'))}",
                 f"**Step** {s.index + 1} / {len(s.steps)} · **action** {esc(_short(game, st.get('action')))} · **reward** "
                 f"{_num(st.get('reward'), signed=True)} · **points** +{_num(st.get('score_delta'))} · "
                 f"**total reward so far** {total:+.0f} · **points so far** {points:.0f}"]
        if st.get("parse_error"):
            lines.append(f"Parse error: {esc(st['parse_error'], 200)}"
                         + (f" (played the random move {esc(st['fallback_action'], 20)})" if st.get("fallback_action") is not None else ""))
        elif st.get("reason"):
            lines.append(f"Refused: {esc(st['reason'], 200)}")
        answer = st.get("answer") or ""
        # only answers in the response format have a format and a perception to judge (baselines do not)
        if st.get("format_ok") is not None and ("<perception>" in answer or "<think>" in answer):
            lines.append(f"format {'ok' if st['format_ok'] else 'not followed'} · perception "
                         f"{'exact' if st.get('perception_ok') else 'not exact'}")
        if frame is None:
            lines.append("(no stored frame for this step)")
        elif drawn:
            lines.append("(frame drawn by replaying the logged answers; the run did not store it)")
        return ReplayView(frame, "\n\n".join(lines), st.get("answer") or "", len(s.steps), s.index, choices,
                          s.episode_id)


def _num(x: Any, signed: bool = False) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "–"
    if signed:
        return f"{x:+.0f}" if float(x).is_integer() else f"{x:+.2f}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _short(game: Any, action: Any) -> str:
    if action is None:
        return "–"
    if isinstance(action, list) and len(action) == 4:
        return f"({action[0]}, {action[1]}) ({action[2]}, {action[3]})"
    if game == "2048" and isinstance(action, int) and 0 <= action <= 3:
        return f"{action} ({('Up', 'Right', 'Down', 'Left')[action]})"
    return str(action)[:40]


def check_replay_session(value: Any) -> ReplaySession:
    """``value`` if it is a well-formed replay session whose run is still there, else a SpaceError."""
    if value is None:
        raise SpaceError("no run open: pick a run or upload a zip")
    if not isinstance(value, ReplaySession) or value.format != REPLAY_FORMAT:
        raise SpaceError("this session's state is not valid (it may be from an older version of the app); open the run again")
    if not isinstance(value.run_path, str) or not Path(value.run_path).is_dir():
        raise SpaceError("this run is no longer available; open it again")
    if not isinstance(value.steps, list) or not isinstance(value.index, int):
        raise SpaceError("this session's state is not valid; open the run again")
    return value


__all__ = ["ReplayBackend", "ReplaySession", "ReplayView", "check_zip", "extract_zip", "check_replay_session",
           "DATA_SUFFIXES", "MAX_COMPRESSION_RATIO"]
