"""The G1 cold start: a perception-enhanced SFT dataset of teacher answers on game states.

G1 fine-tunes the base model on answers of a strong teacher (Claude-3.7-Sonnet-Thinking in the paper) on
about 1,000 states per game, "perception-enhanced" (spec section 5): each kept answer carries the exact
ground-truth ``<perception>`` block in front of the teacher's ``<think>`` and ``<answer>``. Here:

1. States come from the paper's training sampler (:class:`~g1bench.training.states.StateSampler`) on
   their own seed stream (:data:`~g1bench.training.states.COLDSTART_SEED_BASE`), never an evaluation seed.
2. The teacher is any policy of the harness: a model through :func:`g1bench.models.load_policy` (an
   OpenAI-compatible endpoint serving a strong model, or a local VLM), or, offline, :class:`OracleTeacher`
   (the oracle's move with a templated ``<think>``). It sees the picture the trained model will see
   (``env.model_observation()``: G1's training size 640x840 by default, ``ColdStartSpec.model_frame``) and the
   game's prompt, and the stored ``images`` are that picture, so SFT trains on G1's training pixels.
3. An answer is kept when its move succeeds in the env from that state (up to ``attempts`` tries per
   state, each with its own sampling seed). The kept text is rewritten as ``<perception>`` (ground truth) +
   the teacher's ``<think>`` + the canonical ``<answer>`` of its move, and judged again: the stored answer
   parses, succeeds, and has the right format and perception.
4. Rows are written in TRL's SFT format for VLMs, ``images`` (one frame) + ``messages`` (user: image and
   prompt; assistant: the answer), with provenance columns, as a dataset folder with a card: one config per
   game (``coldstart-<game>``) and ``all`` (the default). The folder is written like the other g1bench
   datasets (:mod:`g1bench.data.build`): staged shards, the card last, ``resume`` after an interruption.

``python training/build_coldstart.py --config training/recipes/g1-shisensho/coldstart.yaml`` runs it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import __version__
from ..core.answer import TAGS, ParseError, extract_tag
from ..core.env import G1Env
from ..core.hashing import canonical_json, content_hash
from ..data.errors import DataError
from ..eval.policies import Answer, OraclePolicy, Policy, Turn
from .states import COLDSTART_SEED_BASE, TRAIN_FRAME, StateSampler, StateSource, parse_mix, prompt_messages

#: states per parquet shard (the unit of ``resume``)
SHARD_STATES = 250
KIND = "coldstart"


# -- the offline teacher --------------------------------------------------------------------------------
def _cell(cells: list, r: int, c: int) -> str:
    value = cells[r][c]
    return "empty" if value in (None, 0, "") else str(value)


def templated_think(env: G1Env, action: Any) -> str:
    """A short, true explanation of why ``action`` is good in the env's current state (the oracle teacher's
    ``<think>``): what the move does, read off the rules, not a model's words."""
    game = env.game
    name = game.name
    if name == "2048":
        from ..games.twenty48 import DIRECTIONS, move_board

        board = game.board
        parts = []
        for d in range(4):
            new, score = move_board(board, d)
            if new == board:
                parts.append(f"{DIRECTIONS[d]} ({d}) does not move any tile")
            else:
                merged = f"merges tiles for {score} points" if score else "moves tiles without merging"
                parts.append(f"{DIRECTIONS[d]} ({d}) {merged}")
        new, score = move_board(board, int(action))
        empty = sum(v == 0 for row in new for v in row)
        return (f"Checking each move: {'; '.join(parts)}. {DIRECTIONS[int(action)]} ({int(action)}) is the best "
                f"choice: it scores {score} points now and leaves {empty} empty cells for the next tiles.")
    cells = game.structured_state()["cells"]
    r1, c1, r2, c2 = (int(v) for v in action)
    a, b = _cell(cells, r1, c1), _cell(cells, r2, c2)
    if name == "swap":
        return (f"Swapping the {a} at ({r1}, {c1}) with the neighbouring {b} at ({r2}, {c2}) lines up three or more "
                "identical tiles in a row or a column, so the swap scores.")
    return (f"The tiles at ({r1}, {c1}) and ({r2}, {c2}) are both {a}, and they can be joined by a path with at most "
            "two turns that crosses no other tile, so this pair can be removed.")


class OracleTeacher(Policy):
    """The offline cold-start teacher: the oracle's move (:class:`~g1bench.eval.policies.OraclePolicy`) with a
    templated ``<think>`` (:func:`templated_think`) and the ground-truth perception. Deterministic."""

    name = "oracle-teacher"
    needs_frames = False

    def __init__(self, depth: int = 2):
        self.oracle = OraclePolicy(depth=depth)

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "builtin", "depth": self.oracle.depth,
                "think": "templated (g1bench.training.coldstart.templated_think)"}

    def act(self, turns: list[Turn]) -> list[Answer]:
        out = []
        for t in turns:
            answer = self.oracle.best_answer(t.state)
            env = self.oracle.cache.env_at(t.state)
            action = env.game.parse_answer(answer)
            think = "No move is possible." if isinstance(action, ParseError) else templated_think(env, action)
            out.append(Answer(compose_answer(env.game.perception_text(), think, answer)))
        return out


def resolve_teacher(teacher: str, model_config: Any = None) -> Policy:
    """``oracle`` (offline) or a model for :func:`g1bench.models.load_policy` (a Hub id, a local folder, or the
    name an OpenAI-compatible server knows, with ``model_config.base_url``)."""
    if teacher == "oracle":
        return OracleTeacher()
    from ..models import load_policy

    return load_policy(teacher, model_config)


# -- answers ------------------------------------------------------------------------------------------
def _strip_tags(text: str) -> str:
    for t in TAGS:
        text = text.replace(f"<{t}>", "").replace(f"</{t}>", "")
    return text.strip()


def teacher_think(text: str) -> str:
    """The teacher's reasoning: its last ``<think>`` block, else whatever it wrote outside the tagged blocks;
    protocol tags inside are removed (they would confuse the answer grammar)."""
    think = extract_tag(text, "think")
    if think is None:
        rest = text
        for t in ("perception", "answer"):
            block = extract_tag(rest, t)
            while block is not None:
                rest = rest.replace(f"<{t}>{block}</{t}>", " ")
                block = extract_tag(rest, t)
        think = rest
    return _strip_tags(think)


def compose_answer(perception: str, think: str, answer: str) -> str:
    """The perception-enhanced answer: ground-truth perception, then the reasoning, then the answer block."""
    return f"<perception>\n{perception}\n</perception>\n<think>\n{think}\n</think>\n{answer}"


# -- the build ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColdStartSpec:
    """What defines a cold-start dataset (besides the teacher's own behaviour)."""

    games: tuple[str, ...]
    preset: str = "paper"
    states_per_game: int = 1000
    attempts: int = 1
    overrides: str = "{}"
    system_prompt: str | None = None
    seed_base: int = COLDSTART_SEED_BASE
    #: the picture the teacher sees and the dataset stores (g1bench.training.states.frame_knobs)
    model_frame: str = TRAIN_FRAME

    def command(self, teacher: str) -> str:
        parts = ["python training/build_coldstart.py --output_dir OUT", f"--games {','.join(self.games)}",
                 f"--preset {self.preset}", f"--states_per_game {self.states_per_game}", f"--teacher {teacher}",
                 f"--attempts {self.attempts}", f"--model_frame {self.model_frame}"]
        if self.overrides != "{}":
            parts.append(f"--game_overrides '{self.overrides}'")
        return " ".join(parts)


@dataclass
class ColdStartReport:
    """What a build produced: per game, states asked and answers kept, and the files."""

    out: Path
    asked: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    files: list[Any] = field(default_factory=list)
    seconds: float = 0.0

    def acceptance(self, game: str) -> float:
        return self.kept.get(game, 0) / max(1, self.asked.get(game, 0))


def features():
    """The ``datasets.Features`` of a cold-start row (TRL's SFT format for VLMs + provenance)."""
    from datasets import Features, Image, List, Value

    part = {"type": Value("string"), "text": Value("string")}
    return Features({
        "images": List(Image()),
        "messages": List({"role": Value("string"), "content": List(part)}),
        "game": Value("string"), "difficulty": Value("string"), "overrides": Value("string"),
        "seed": Value("int64"), "state": Value("string"), "state_hash": Value("string"),
        "perception": Value("string"), "teacher": Value("string"), "teacher_answer": Value("string"),
        "attempt": Value("int64"),
    })


FIELDS = (
    ("images", "list of image", "The picture the teacher saw (one PNG): the env's frame resized to the model frame "
                                "(`env.model_observation()`; G1's training size 640x840, BICUBIC, unless the "
                                "command says otherwise)."),
    ("messages", "list of messages", "TRL's conversational SFT format: the user turn (an image placeholder, then the "
                                     "game's prompt) and the assistant turn (the perception-enhanced answer)."),
    ("game", "string", "Game name (`g1bench.make`)."),
    ("difficulty", "string", "Difficulty preset."),
    ("overrides", "string", "JSON knob overrides on top of the preset (the model frame's `model_frame` included)."),
    ("seed", "int64", "Seed of the state (the cold-start stream; never an evaluation seed)."),
    ("state", "string", "The full g1bench snapshot of the state (`g1bench.make_from_state`)."),
    ("state_hash", "string", "`env.state_hash()` of the state."),
    ("perception", "string", "The perception ground truth written into the answer."),
    ("teacher", "string", "The teacher's provenance (JSON of `policy.describe()`)."),
    ("teacher_answer", "string", "The teacher's raw answer, before the perception block was replaced."),
    ("attempt", "int64", "Which try of the teacher on this state was kept (0 = first)."),
)


def _shards(spec: ColdStartSpec) -> list[tuple[str, int, int, str]]:
    out = []
    for game in spec.games:
        chunks = [(lo, min(spec.states_per_game, lo + SHARD_STATES))
                  for lo in range(0, spec.states_per_game, SHARD_STATES)]
        for i, (lo, hi) in enumerate(chunks):
            out.append((game, lo, hi, f"{KIND}-{game}/train-{i:05d}-of-{len(chunks):05d}.parquet"))
    return out


def _rows_for_shard(spec: ColdStartSpec, teacher: Policy, teacher_json: str, source: StateSource,
                    lo: int, hi: int, batch_size: int) -> list[dict[str, Any]]:
    from ..render.png import encode_png

    # the sampler's stream is per game: row i of game g uses seed base + i, whatever the other games
    sampler = StateSampler([source], seed_base=spec.seed_base)
    game = source.game
    pending = []
    for index in range(lo, hi):
        env, meta = sampler.sample(index)
        picture = env.model_observation()  # what the model to be trained will see, and what the teacher sees
        pending.append({"index": index, "state": env.get_state(), "png": encode_png(picture), "prompt": env.prompt,
                        "frame": picture if teacher.needs_frames else None,  # pixels only for a teacher that looks
                        "perception": env.game.perception_text(), "hash": env.state_hash(), "meta": meta})
    knobs = canonical_json(source.knobs)
    kept: dict[int, dict[str, Any]] = {}
    judge_env: dict[str, G1Env] = {}
    for attempt in range(spec.attempts):
        todo = [p for p in pending if p["index"] not in kept]
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            turns = [Turn(game=game, frame=p["frame"], prompt=p["prompt"],
                          state=p["state"], episode=f"coldstart/{game}/{p['meta']['seed']}", step=attempt)
                     for p in batch]
            answers = teacher.act(turns)
            for p, answer in zip(batch, answers):
                key = canonical_json(p["state"]["config"])
                env = judge_env.get(key)
                if env is None:
                    env = judge_env[key] = G1Env(game, difficulty=dict(p["state"]["config"]), render_mode=None)
                env.set_state(p["state"])
                raw = answer.text if isinstance(answer.text, str) else ""
                first = env.evaluate_group([raw])[0]
                if not first.outcome.success:
                    continue
                final = compose_answer(p["perception"], teacher_think(raw), env.answer_for(first.action))
                check = env.evaluate_group([final])[0]
                if not (check.outcome.success and check.format_ok and check.perception_ok):
                    continue  # the rewritten answer must be exactly as good as it claims
                # the evaluation harness's messages, with every content part given both keys (one arrow schema)
                messages = [{"role": m["role"], "content": [{"type": c["type"], "text": c.get("text")} for c in m["content"]]}
                            for m in prompt_messages(p["prompt"], spec.system_prompt)]
                messages.append({"role": "assistant", "content": [{"type": "text", "text": final}]})
                kept[p["index"]] = {
                    "images": [{"bytes": p["png"], "path": None}], "messages": messages,
                    "game": game, "difficulty": p["meta"]["difficulty"], "overrides": knobs,
                    "seed": int(p["meta"]["seed"]), "state": canonical_json(p["state"]), "state_hash": p["hash"],
                    "perception": p["perception"], "teacher": teacher_json, "teacher_answer": raw, "attempt": attempt,
                }
    return [kept[i] for i in sorted(kept)]


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..data.build import IMAGE_ROW_GROUP, PARQUET_OPTIONS

    table = pa.Table.from_pylist(rows, schema=features().arrow_schema)
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, part, row_group_size=IMAGE_ROW_GROUP, **PARQUET_OPTIONS)
    os.replace(part, path)


def build_coldstart(out: str | os.PathLike, spec: ColdStartSpec, teacher: Policy | None = None,
                    teacher_label: str = "oracle", batch_size: int = 32, resume: bool = False,
                    overwrite: bool = False, log: Callable[[str], None] | None = None) -> ColdStartReport:
    """Build the cold-start dataset folder ``out``.

    Args:
        out: output folder (empty or absent unless ``resume`` / ``overwrite``).
        spec: games, preset, states per game, attempts, overrides.
        teacher: any :class:`~g1bench.eval.policies.Policy` (default: :class:`OracleTeacher`).
        teacher_label: how the teacher is named in the card's command line.
        batch_size: turns per teacher call.
        resume: keep the shards an interrupted build of the same spec and teacher finished.
        overwrite: replace a previous g1bench dataset in ``out``.

    Returns:
        A :class:`ColdStartReport`.

    Raises:
        DataError: bad options or a non-empty folder (the message says what to do).
    """
    import pyarrow.parquet as pq

    from ..data.build import STAGE, Job, file_info, finish, prepare_folder

    log = log or (lambda msg: print(msg, file=sys.stderr))
    if spec.states_per_game < 1 or spec.attempts < 1 or batch_size < 1:
        raise DataError("states_per_game, attempts and batch_size must be >= 1")
    teacher = teacher or OracleTeacher()
    teacher_json = canonical_json(teacher.describe())
    out = Path(out)
    t0 = time.perf_counter()
    sources = parse_mix(",".join(spec.games), spec.preset, "paper", spec.overrides, spec.model_frame)
    build_id = content_hash(["coldstart", __version__, asdict(spec), teacher_json])
    state = prepare_folder(out, {"kind": "coldstart", "spec": asdict(spec), "teacher": teacher_json,
                                 "build_id": build_id}, resume, overwrite, "cold-start build")
    report = ColdStartReport(out)
    jobs = []
    for game, lo, hi, path in _shards(spec):
        staged = out / STAGE / path
        done = staged if staged.exists() else out / path if state == "complete" else None
        if done is not None:
            n = pq.read_metadata(done).num_rows
            log(f"{path}: already built ({n} rows)")
        else:
            src = next(s for s in sources if s.game == game)
            t = time.perf_counter()
            rows = _rows_for_shard(spec, teacher, teacher_json, src, lo, hi, batch_size)
            n = len(rows)
            if n:  # an empty shard gets no file (parquet readers reject it); resume asks those states again
                _write(rows, staged)
            log(f"{path}: kept {n} of {hi - lo} states ({time.perf_counter() - t:.1f} s)")
        report.asked[game] = report.asked.get(game, 0) + hi - lo
        report.kept[game] = report.kept.get(game, 0) + n
        if n:
            jobs.append(Job(path, f"{KIND}-{game}", "train", KIND, (game, lo, hi), n))
    if not jobs:
        raise DataError(f"no answer of the teacher succeeded in the env ({report.asked} states asked): nothing to "
                        "train on. Check the teacher (e.g. with g1bench eval), or allow more --attempts with sampling")
    if "shisensho-images" in spec.games:  # the frames show the bundled tile pack: ship its licence (as data build does)
        from importlib import resources

        from ..data.build import TILEPACK_LICENSE

        target = out / STAGE / TILEPACK_LICENSE
        if state != "complete" and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(resources.files("g1bench").joinpath("assets/tilepack/LICENSE").read_bytes())
        jobs.append(Job(TILEPACK_LICENSE, None, None, "license", (), None))
    if state == "complete":
        log(f"{out} is already a complete build of this spec and teacher; nothing to do")
        report.files = [file_info(out, job) for job in jobs]
    else:
        report.files = finish(out, jobs, lambda infos: render_card(spec, teacher_json, teacher_label, report, infos))
    report.seconds = time.perf_counter() - t0
    return report


# -- the card -------------------------------------------------------------------------------------------
def _front_matter(files: Sequence[Any]) -> str:
    import yaml

    from ..data.card import _size_category

    files = [f for f in files if f.config]
    by_config: dict[str, list[Any]] = {}
    for f in files:
        by_config.setdefault(f.config, []).append(f)
    def feats() -> list:  # a fresh list per config: shared objects would become YAML aliases
        return features()._to_yaml_list()

    configs = [{"config_name": "all", "data_files": [{"split": "train", "path": [f.path for f in files]}], "default": True}]
    infos = [{"config_name": "all", "features": feats(),
              "splits": [{"name": "train", "num_bytes": sum(f.data_bytes for f in files),
                          "num_examples": sum(f.rows for f in files)}],
              "download_size": sum(f.bytes for f in files), "dataset_size": sum(f.data_bytes for f in files)}]
    for config, fs in by_config.items():
        configs.append({"config_name": config, "data_files": [{"split": "train", "path": [f.path for f in fs]}]})
        infos.append({"config_name": config, "features": feats(),
                      "splits": [{"name": "train", "num_bytes": sum(f.data_bytes for f in fs),
                                  "num_examples": sum(f.rows for f in fs)}],
                      "download_size": sum(f.bytes for f in fs), "dataset_size": sum(f.data_bytes for f in fs)})
    data = {"license": "apache-2.0", "language": ["en"], "pretty_name": "g1bench: G1 perception-enhanced cold start",
            "size_categories": [_size_category(sum(f.rows for f in files))],
            "task_categories": ["image-text-to-text"],
            "tags": ["g1bench", "vlm-gym", "games", "sft", "synthetic", "trl"], "configs": configs, "dataset_info": infos}
    return "---\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096) + "---\n"


def render_card(spec: ColdStartSpec, teacher_json: str, teacher_label: str, report: ColdStartReport,
                files: Sequence[Any]) -> str:
    """The dataset card: how the data was made, acceptance per game, fields, files, licence, citation."""
    from ..data.card import CITATION, LICENCE, _environment, _files_table, _table, _versions_table

    knobs = {s.game: s.knobs for s in parse_mix(",".join(spec.games), spec.preset, "paper", spec.overrides,
                                                 spec.model_frame)}
    acceptance = _table(("game", "states asked", "answers kept", "acceptance"),
                        [(g, report.asked[g], report.kept[g], f"{report.acceptance(g):.1%}") for g in spec.games])
    example = "\n".join([
        "```python", "from datasets import load_dataset", 'ds = load_dataset("ORG/NAME", split="train")   # or this folder; '
        f'one game: load_dataset(..., "{KIND}-{spec.games[0]}")', 'ds[0]["images"][0], ds[0]["messages"][1]["content"][0]["text"]',
        "```", "", "Train on it with TRL (prompt = user turn, completion = the answer):", "", "```bash",
        f"python training/sft.py --config training/recipes/g1-{spec.games[0]}/sft.yaml --dataset_name OUT", "```"])
    parts = [
        _front_matter(files),
        f"<!-- g1bench-build-id: {content_hash(['coldstart', __version__, asdict(spec), teacher_json])} -->",
        "# g1bench: perception-enhanced cold start (G1)",
        "",
        "Supervised fine-tuning data for the cold start of **G1** ([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)): "
        "a teacher's answers on start states of the VLM-Gym games, kept only when the teacher's move succeeds in the "
        "game, with the exact ground-truth `<perception>` block written into every answer. Generated by "
        f"g1bench {__version__}.",
        "",
        "## Load it", "", example, "",
        "## How it was made", "",
        f"- **States**: {spec.states_per_game} per game at preset `{spec.preset}`, from the paper's training sampler "
        "(seeded reset + the paper's random warm-up), seeds "
        f"{spec.seed_base:_} + i: a stream of their own, never a seed of the evaluation suites.",
        f"- **Teacher**: `{teacher_json}`. It saw the frame and the game's prompt, as an evaluated model does.",
        f"- **Filter**: up to {spec.attempts} {'try' if spec.attempts == 1 else 'tries'} per state; a try is kept when its move succeeds in the env from that "
        "state (the paper's +1 game reward).",
        "- **Perception-enhanced answer**: `<perception>` (ground truth) + the teacher's `<think>` + the canonical "
        "`<answer>` of its move, judged again before it is stored (it parses, succeeds, and its format and perception "
        "are exact).",
        "", acceptance, "",
        "```", spec.command(teacher_label), "```", "",
        f"- {_environment()}.", "",
        _versions_table([(g, spec.preset, knobs[g]) for g in spec.games]), "",
        "## Fields", "", _table(("field", "type", "meaning"), ((f"`{n}`", t, d) for n, t, d in FIELDS)), "",
        "## Files", "", _files_table(files), "",
        "## Licence", "", LICENCE, "",
        "## Citation", "", "```bibtex", CITATION, "```", "",
    ]
    return "\n".join(parts)


__all__ = ["ColdStartReport", "ColdStartSpec", "OracleTeacher", "build_coldstart", "compose_answer", "features",
           "render_card", "resolve_teacher", "teacher_think", "templated_think"]
