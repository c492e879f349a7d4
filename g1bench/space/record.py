"""Opt-in recording of people's games as a Hugging Face dataset (a human baseline and cold-start data).

A recorded game becomes one parquet file of ``episodes-<game>`` rows, with exactly the columns of the
``episodes`` configs that ``g1bench data build`` and ``g1bench data from-run`` write
(:data:`g1bench.data.schema.EPISODES`), written by the same writer (:func:`g1bench.data.build.write_parquet`),
and the folder's card (``README.md``, front matter from :func:`g1bench.data.card.front_matter`) is rewritten
so that ``datasets.load_dataset(folder, "episodes-2048")`` reads every game recorded so far.

Nothing identifies the player: the episode id holds a random per-session tag. ``policy`` is ``human``, or
``human-undo`` when the player undid moves (undone moves are not in the data). ``latency_s`` is the
player's thinking time per move. Recording is off unless the Space's operator names a folder *and* the
visitor ticks the box.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator

from .. import __version__, make_from_state
from ..core.hashing import canonical_json
from ..data.build import FileInfo, sha256_file, write_parquet
from ..data.card import front_matter
from ..data.schema import EPISODES
from ..games import get_game
from ..render.png import encode_png

CARD = "README.md"
INDEX = ".g1bench-human-index.json"
LOCK = ".g1bench-human.lock"

# one process-wide lock next to the file lock: threads of this process share one open file description
_THREAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialise card updates between threads and between processes writing the same folder."""
    with _THREAD_LOCK:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: threads of this process are still serialised
            yield
            return
        with open(folder / LOCK, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def overrides_of(game: str, preset: str, config: dict[str, Any]) -> dict[str, Any]:
    """The knobs where ``config`` differs from the preset (e.g. a substituted tile source)."""
    base = get_game(game).Config.from_preset(preset).to_dict()
    return {k: v for k, v in config.items() if base.get(k) != v}


def episode_rows(game: str, preset: str, seed: int, steps: list[dict[str, Any]], episode_id: str,
                 policy: str) -> list[dict[str, Any]]:
    """The ``episodes`` rows of a person's game.

    ``steps`` are what the Play tab keeps per move: ``snapshot`` (the env before the move), ``action``,
    ``answer`` (the text a model would give for it), ``reward``, ``score_delta``, ``valid``, ``success``,
    ``terminated``, ``parse_error`` and ``latency_s``. Frames, perception and prompts are rebuilt from the
    snapshots, so they are exactly what a model would have been shown.
    """
    rows = []
    env = None
    overrides: dict[str, Any] | None = None
    for t, s in enumerate(steps):
        if env is None:
            env = make_from_state(s["snapshot"])
            overrides = overrides_of(game, preset, env.config.to_dict())
        else:
            env.set_state(s["snapshot"])
        action = s["action"]
        frame = env.render()
        rows.append({
            "episode_id": episode_id, "policy": policy, "step": t, "game_index": 0, "game": game,
            "difficulty": preset, "overrides": canonical_json(overrides or {}), "seed": int(seed),
            "frame": {"bytes": encode_png(frame), "path": None},
            "model_frame": {"bytes": encode_png(env.model_observation(frame)), "path": None}, "prompt": env.prompt,
            "history": 0,
            "answer": s["answer"], "action": None if action is None else [int(v) for v in action],
            "parse_error": s.get("parse_error"), "reward": float(s["reward"]), "score_delta": int(s["score_delta"]),
            "valid": bool(s["valid"]), "success": bool(s["success"]), "terminated": bool(s["terminated"]),
            "done": bool(s["terminated"]) or t == len(steps) - 1, "perception": env.game.perception_text(),
            "perception_ok": None, "format_ok": None, "state_hash": env.state_hash(), "output_tokens": None,
            "latency_s": None if s.get("latency_s") is None else float(s["latency_s"]),
        })
    return rows


class HumanGameRecorder:
    """Writes recorded games into ``folder`` and keeps its card current (safe for concurrent sessions)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def save(self, game: str, preset: str, seed: int, steps: list[dict[str, Any]], tag: str, number: int,
             undo_used: bool) -> Path | None:
        """Write one game (None when it has no step); returns the parquet file's path."""
        if not steps:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        episode_id = f"human/{game}/{preset}/{tag}-{number}"
        rows = episode_rows(game, preset, seed, steps, episode_id, "human-undo" if undo_used else "human")
        config = f"episodes-{game}"
        day = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d")
        rel = f"{config}/human-{day}-{tag}-{number}-{uuid.uuid4().hex[:8]}.parquet"
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        write_parquet(rows, "episodes", part)
        os.replace(part, path)
        info = _file_info(self.folder, rel, config)
        with _folder_lock(self.folder):
            index = self._read_index()
            index[rel] = dataclasses.asdict(info)
            tmp = self.folder / (INDEX + ".part")
            tmp.write_text(json.dumps(index, indent=0, sort_keys=True))
            os.replace(tmp, self.folder / INDEX)
            files = [FileInfo(**v) for _, v in sorted(index.items()) if (self.folder / v["path"]).is_file()]
            card = self.folder / (CARD + ".part")
            card.write_text(render_card(files))
            os.replace(card, self.folder / CARD)
        return path

    def _read_index(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.folder / INDEX).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}


def _file_info(folder: Path, rel: str, config: str) -> FileInfo:
    import pyarrow.parquet as pq

    p = folder / rel
    meta = pq.read_metadata(p)
    data_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return FileInfo(rel, config, "train", meta.num_rows, p.stat().st_size, sha256_file(p), data_bytes)


def render_card(files: list[FileInfo]) -> str:
    """The card of a human-games folder: ``datasets`` front matter and what the data is."""
    configs = sorted({f.config for f in files if f.config})
    first = configs[0] if configs else "episodes-2048"
    games = sum(1 for f in files if f.config)
    columns = "\n".join("| `{}` | {} | {} |".format(name, kind, text.replace("|", "\\|")) for name, kind, text in EPISODES)
    return "\n".join([
        front_matter(files, "g1bench human games", ["g1bench", "vlm-gym", "games", "human-baseline"]),
        "# g1bench: games played by people",
        "",
        f"{games} game(s) of the VLM-Gym games from the G1 paper ([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)), "
        "played by visitors of the g1bench Space who opted in to recording. Each row is one move: the frame the "
        "player saw (exactly what a model is shown), the prompt a model would get, the move as a model's answer "
        "text, the parsed action and the game reward.",
        "",
        "- `policy` is `human`, or `human-undo` when the player used undo (undone moves are not recorded).",
        "- `latency_s` is the player's thinking time for the move; `episode_id` holds a random tag per browser "
        "session, nothing that identifies the player.",
        f"- Written by g1bench {__version__}; the columns are those of g1bench's `episodes` configs.",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("PATH_OR_REPO", "{first}", split="train")',
        "```",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
        columns,
        "",
    ])


__all__ = ["HumanGameRecorder", "episode_rows", "overrides_of", "render_card"]
