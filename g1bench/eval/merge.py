"""``g1bench merge``: join the shards of a run (``g1bench eval --shard I/N``) into one run directory.

Each shard ran every N-th episode of the same suite with the same policy, on its own machine or GPU.
The merged directory holds every shard's steps in suite order, their frames, a ``run.json`` naming the
shards it came from, and ``results.json`` recomputed from the joined step log, so ``g1bench verify``
accepts it and its figures equal an unsharded run's (for deterministic policies).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Sequence

from ..core.files import write_atomic
from .rundir import RUN_FORMAT, STEPS_FILE, RunError, _line, read_run_json, read_steps_file, run_suite
from .runner import _now, build_results, shard_episodes


def merge_runs(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike) -> tuple[dict[str, Any], list[int]]:
    """Merge shard run directories into ``out`` (which must not exist or be empty).

    Returns:
        The merged results and the shard indexes that were missing (the merged run is then incomplete).

    Raises:
        RunError: the runs are not shards of one run (another suite, policy, shard count or frame
            setting), two hold the same shard, or ``out`` is not usable.
    """
    dirs = [Path(d) for d in run_dirs]
    if len(dirs) < 1:
        raise RunError("merge needs at least one run directory")
    runs = [read_run_json(d) for d in dirs]
    first = runs[0]
    suite = run_suite(first)
    count, seen = None, {}
    for d, run in zip(dirs, runs):
        if run["suite"].get("hash") != first["suite"].get("hash"):
            raise RunError(f"{d} ran suite {run['suite'].get('suite_id')} (hash {run['suite'].get('hash')}), "
                           f"{dirs[0]} ran {first['suite'].get('suite_id')} (hash {first['suite'].get('hash')}): "
                           "only shards of one run can be merged")
        if run["policy"] != first["policy"]:
            raise RunError(f"{d} ran policy {run['policy']}, {dirs[0]} ran {first['policy']}: only shards of one run "
                           "can be merged")
        if run.get("options", {}).get("save_frames", True) != first.get("options", {}).get("save_frames", True):
            raise RunError(f"{d} and {dirs[0]} differ in --no-frames")
        shard = run.get("shard")
        if not isinstance(shard, dict):
            raise RunError(f"{d} is not a shard (it ran without --shard); nothing to merge it with")
        if count is None:
            count = shard.get("count")
        if shard.get("count") != count:
            raise RunError(f"{d} is shard {shard.get('index')}/{shard.get('count')}, {dirs[0]} is one of {count}: "
                           "shards of one run share N")
        if shard.get("index") in seen:
            raise RunError(f"{d} and {seen[shard['index']]} are both shard {shard['index']}/{count}")
        seen[shard.get("index")] = d
    missing = sorted(set(range(count)) - set(seen))

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"{out} exists and is not an empty folder; choose another output")
    logs: dict[str, list[dict[str, Any]]] = {}
    for d, run in zip(dirs, runs):
        shard = run["shard"]
        own = {e.episode_id for e in shard_episodes(suite, (shard["index"], shard["count"]))}
        if (d / STEPS_FILE).exists():
            steps, _ = read_steps_file(d / STEPS_FILE)
            logs.update({k: v for k, v in steps.items() if k in own})
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "frames").mkdir(exist_ok=True)
        for d in dirs:
            for png in sorted((d / "frames").glob("*.png")) if (d / "frames").is_dir() else ():
                target = out / "frames" / png.name
                if not target.exists():
                    try:
                        os.link(png, target)  # frames are immutable: a hard link costs no space
                    except OSError:
                        shutil.copyfile(png, target)
        meta = {**first, "format": RUN_FORMAT, "shard": None,
                "merged_from": [{"dir": str(d), "shard": r["shard"]} for d, r in zip(dirs, runs)],
                "start_time": min(r.get("start_time") or "" for r in runs)}
        if meta.get("command"):
            meta["command"] = {k: v for k, v in meta["command"].items() if k != "shard"}
        write_atomic(out / "run.json", meta)
        with open(out / STEPS_FILE, "wb") as f:
            for spec in suite.episodes:
                for rec in logs.get(spec.episode_id, [])[: spec.steps]:
                    f.write(_line(rec))
            f.flush()
            os.fsync(f.fileno())
        results = build_results(suite, meta, suite.episodes, logs, end_time=_now())
        write_atomic(out / "results.json", results)
    except OSError as e:
        raise RunError(f"cannot write the merged run to {out}: {e.strerror or e}") from None
    return results, missing


__all__ = ["merge_runs"]
