"""``g1bench data from-run``: an evaluation run directory as ``episodes-<game>`` configs.

The run directory (written by :mod:`g1bench.eval.runner`)::

    run.json          {"suite": {...Suite.to_dict()...}, "policy": {...}, ...}
    steps.jsonl       the step log: one JSON object per step (episode_id, step, game_index, state_hash, frame,
                      prompt_hash, answer, parse_error, action, reward, score_delta, valid, success, terminated,
                      perception, perception_ok, format_ok, output_tokens, latency_s, ...); episodes are read
                      with g1bench.eval.rundir.load_episodes (a g1bench 0.1 episodes.jsonl is read too)
    frames/<id>.png   every distinct frame once

The output has the columns of the built ``episodes`` configs (see :mod:`g1bench.data.schema`), so model
runs and baseline trajectories load the same way. PNG bytes are copied as they are; prompts are rebuilt
from the env and checked against the run's prompt hashes.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..core.hashing import canonical_json, content_hash
from .build import BuildReport, FileInfo, Job, STAGE, finish, prepare_folder, sha256_file, write_parquet
from .errors import DataError

#: steps per parquet file
ROWS_PER_FILE = 5000


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _read_episodes(run_dir: Path) -> tuple[list[dict[str, Any]], Path]:
    """The finished episodes of a run (its step log, or a g1bench 0.1 ``episodes.jsonl``) and the log's path."""
    from ..eval.rundir import LEGACY_EPISODES_FILE, STEPS_FILE, RunError, load_episodes, read_legacy_episodes, read_steps_file

    log = run_dir / STEPS_FILE
    if not log.is_file():
        log = run_dir / LEGACY_EPISODES_FILE
    if not (run_dir / "run.json").is_file() or not log.is_file():
        raise DataError(f"{run_dir} is not a g1bench run directory (it needs run.json and {STEPS_FILE})")
    try:
        if log.name == STEPS_FILE:
            episodes, good_end = load_episodes(run_dir), read_steps_file(log)[1]
        else:
            episodes, good_end = read_legacy_episodes(log)
    except RunError as e:
        raise DataError(str(e)) from None
    if good_end < log.stat().st_size:
        warnings.warn(f"{log}: ignoring a torn last line (the run was interrupted while writing it)", stacklevel=3)
    return episodes, log


def _policy_name(policy: dict[str, Any]) -> str:
    """The policy's name: ``describe()["policy"]`` is always a string (a baseline name or the model id)."""
    return str(policy.get("policy") or "unknown")


def _model_frame_png(env: Any, png_bytes: bytes, where: Path) -> dict[str, Any]:
    """The ``model_frame`` cell for a run's saved frame: the same PNG when the model is given the frame as drawn,
    else the frame decoded and resized as the model was given it."""
    if env.config.model_frame == "native":
        return {"bytes": png_bytes, "path": None}
    import io

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from ..render.png import encode_png

    try:
        frame = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"))
    except (OSError, UnidentifiedImageError) as e:
        raise DataError(f"frame {where} is not a readable PNG ({e})") from None
    return {"bytes": encode_png(env.model_observation(frame)), "path": None}


def from_run(run_dir: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False) -> BuildReport:
    """Convert the run directory ``run_dir`` into a dataset folder ``out`` (one ``episodes-<game>`` config per game).

    Raises:
        DataError: not a run directory, a malformed record, a missing frame, a prompt that no longer matches
            the run's prompt hash, or a non-empty ``out``.
    """
    from .. import make
    from .card import render_run_card

    run_dir, out = Path(run_dir), Path(out)
    run_json = run_dir / "run.json"
    episodes, episodes_file = _read_episodes(run_dir)
    try:
        run = json.loads(run_json.read_text())
    except ValueError as e:
        raise DataError(f"{run_json} is not valid JSON ({e})") from None
    policy = _policy_name(run.get("policy") or {})
    episodes = sorted(episodes, key=lambda e: _natural(e["episode_id"]))
    if not episodes:
        raise DataError(f"{episodes_file} holds no finished episode")

    envs: dict[tuple[str, str, str], Any] = {}
    prompts: dict[tuple[str, str, str], str] = {}
    by_game: dict[str, list[dict[str, Any]]] = defaultdict(list)
    frames_missing = 0
    for ep in episodes:
        overrides = ep.get("overrides") or {}
        key = (ep["game"], ep["difficulty"], canonical_json(overrides))
        if key not in prompts:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:  # the knobs an older suite version pins (paper-v2: native frames), then the episode's own
                    envs[key] = make(ep["game"], ep["difficulty"], render_mode=None,
                                     **{**(ep.get("pinned") or {}), **overrides})
                except (KeyError, ValueError) as e:
                    raise DataError(f"episode {ep['episode_id']}: cannot build {key[0]}/{key[1]} with "
                                    f"{overrides}: {e}") from None
            prompts[key] = envs[key].prompt
        prompt = prompts[key]
        n = len(ep["steps"])
        for i, s in enumerate(ep["steps"]):
            if s.get("prompt_hash") not in (None, content_hash(prompt)):
                raise DataError(f"episode {ep['episode_id']} step {i}: the run's prompt hash {s.get('prompt_hash')} "
                                f"differs from this g1bench's prompt ({content_hash(prompt)}); convert the run with "
                                "the g1bench version that made it")
            frame = model_frame = None
            if s.get("frame"):
                png = run_dir / "frames" / f"{s['frame']}.png"
                if not png.is_file():
                    raise DataError(f"episode {ep['episode_id']} step {i}: frame {png} is missing")
                frame = {"bytes": png.read_bytes(), "path": None}
                model_frame = _model_frame_png(envs[key], frame["bytes"], png)
            else:
                frames_missing += 1
            action = s.get("action")
            if action is not None and not isinstance(action, list):
                action = [action]
            by_game[ep["game"]].append({
                "episode_id": ep["episode_id"], "policy": policy, "step": int(s.get("step", i)),
                "game_index": int(s.get("game_index", 0)), "game": ep["game"], "difficulty": ep["difficulty"],
                "overrides": canonical_json(overrides), "seed": int(ep["seed"]), "frame": frame,
                "model_frame": model_frame, "prompt": prompt, "history": int(s.get("history") or 0),
                "answer": s["answer"] if isinstance(s.get("answer"), (str, type(None))) else json.dumps(s["answer"]),
                "action": None if action is None else [int(v) for v in action],
                "parse_error": s.get("parse_error"), "reward": float(s.get("reward", 0.0)),
                "score_delta": int(s.get("score_delta", 0)), "valid": bool(s.get("valid")),
                "success": bool(s.get("success")), "terminated": bool(s.get("terminated")),
                "done": bool(s.get("terminated")) or i == n - 1, "perception": s.get("perception"),
                "perception_ok": s.get("perception_ok"), "format_ok": s.get("format_ok"),
                "state_hash": s.get("state_hash"), "output_tokens": s.get("output_tokens"),
                "latency_s": None if s.get("latency_s") is None else float(s["latency_s"]),
            })
    if frames_missing:
        warnings.warn(f"{frames_missing} steps have no saved frame (the run used --no-frames); their frame is null",
                      stacklevel=2)

    from ..games import list_games

    order = {g: i for i, g in enumerate(list_games())}
    games = sorted(by_game, key=lambda g: (order.get(g, len(order)), g))
    jobs: list[Job] = []
    chunks: dict[str, list[dict[str, Any]]] = {}
    for game in games:
        rows = by_game[game]
        parts = [rows[i:i + ROWS_PER_FILE] for i in range(0, len(rows), ROWS_PER_FILE)]
        for j, part in enumerate(parts):
            path = f"episodes-{game}/train-{j:05d}-of-{len(parts):05d}.parquet"
            jobs.append(Job(path, f"episodes-{game}", "train", "episodes", (), len(part)))
            chunks[path] = part
    jobs.append(Job("run.json", None, None, "copy", (), None))

    run_sha = sha256_file(run_json)
    plan_data = {"kind": "from-run", "run_json_sha256": run_sha, "episodes_sha256": sha256_file(episodes_file),
                 "build_id": content_hash(["from-run", run_sha])}
    state = prepare_folder(out, plan_data, resume=False, overwrite=overwrite, what="conversion")
    stage = out / STAGE
    for job in jobs:
        target = stage / job.path
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        if job.kind == "copy":
            part.write_bytes(run_json.read_bytes())
        else:
            write_parquet(chunks[job.path], "episodes", part)
        os.replace(part, target)
    pairs = sorted({(g, d, o) for (g, d, o) in prompts}, key=lambda k: (order.get(k[0], 99), k[1], k[2]))
    pairs_dicts = [(g, d, json.loads(o)) for g, d, o in pairs]
    files: list[FileInfo] = finish(out, jobs, lambda infos: render_run_card(run, run_dir.name, pairs_dicts, infos, run_sha))
    return BuildReport(out, files=files, state=state)
