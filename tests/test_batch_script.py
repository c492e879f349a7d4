"""EnvBatch with worker processes works from a plain script: no main guard needed, main never re-run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from g1bench.core.batch import EnvBatch, EnvSpec, WorkerError

SCRIPT = """
from pathlib import Path
import g1bench
from g1bench.core.batch import EnvBatch, EnvSpec

with open({log!r}, "a") as f:   # module-level work: must run once, in this process only
    f.write("main ran\\n")
batch = EnvBatch([EnvSpec("2048"), EnvSpec("swap"), EnvSpec("shisensho", "base")], num_workers=2)
obs = batch.reset(seeds=0)
res = batch.step(["<answer>0</answer>", "<answer>(0, 0) (0, 1)</answer>", "<answer>(0, 0) (0, 1)</answer>"])
local = EnvBatch([EnvSpec("2048"), EnvSpec("swap"), EnvSpec("shisensho", "base")])
obs_l = local.reset(seeds=0)
res_l = local.step(["<answer>0</answer>", "<answer>(0, 0) (0, 1)</answer>", "<answer>(0, 0) (0, 1)</answer>"])
assert [o.info["state_hash"] for o in obs] == [o.info["state_hash"] for o in obs_l]
assert [(r.reward, r.info["state_hash"]) for r in res] == [(r.reward, r.info["state_hash"]) for r in res_l]
print("rewards", [r.reward for r in res])
batch.close()
"""


def test_a_script_without_main_guard_runs_workers_once(tmp_path):
    log = tmp_path / "main.log"
    script = tmp_path / "plain.py"
    script.write_text(SCRIPT.format(log=str(log)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.startswith("rewards [")
    assert log.read_text() == "main ran\n"  # the workers did not re-run the script


def test_a_dead_worker_is_an_error_not_a_hang():
    batch = EnvBatch([EnvSpec("2048"), EnvSpec("2048")], num_workers=2)
    try:
        batch.reset(seeds=0)
        batch._procs[1].terminate()
        with pytest.raises(WorkerError, match="exited unexpectedly"):
            batch.step([0, 0])
    finally:
        batch.close()


def test_the_multiprocessing_start_methods_still_work():
    with EnvBatch([EnvSpec("2048"), EnvSpec("swap")], num_workers=2, mp_context="spawn") as spawned, \
            EnvBatch([EnvSpec("2048"), EnvSpec("swap")], num_workers=2) as fresh:
        a = [o.info["state_hash"] for o in spawned.reset(seeds=3)]
        b = [o.info["state_hash"] for o in fresh.reset(seeds=3)]
    assert a == b
