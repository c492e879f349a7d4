"""The dataset card (``README.md``): YAML front matter that ``datasets`` reads, and the documentation.

Everything in it is derived from the build spec and the files, never from the clock or the output path,
so the card is as reproducible as the data.
"""

from __future__ import annotations

import json
import platform
from collections import defaultdict
from typing import Any, Iterable, Sequence

from .. import __version__
from ..core.hashing import content_hash
from .schema import COLUMNS, PUBLISHED_SUITES, yaml_features

CITATION = """@article{chen2025g1,
  title   = {G1: Bootstrapping Perception and Reasoning Abilities of Vision-Language Model via Reinforcement Learning},
  author  = {Chen, Liang and Gao, Hongcheng and Liu, Tianyu and Huang, Zhiqi and Sung, Flood and Zhou, Xinyu and Wu, Yuxin and Chang, Baobao},
  journal = {arXiv preprint arXiv:2505.13426},
  year    = {2025},
  url     = {https://arxiv.org/abs/2505.13426}
}"""

KIND_TEXT = {
    "perception": "Frames with their exact perception ground truth, structured state and extra questions with exact "
                  "answers (one config per game x difficulty preset).",
    "states": "Start states for RL training and single-decision evaluation, restorable exactly "
              "(`paper` and `late-game` sampling).",
    "episodes": "Step-by-step trajectories of policies: frame, prompt, answer, parsed action, reward, done.",
    "manifests": "Seed manifests of the evaluation suites (one split per suite): every episode's seeds and start-state hash.",
}


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                         (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def _kind(config: str) -> str:
    return config.split("-", 1)[0]


def front_matter(files: Sequence[Any], pretty_name: str, tags: Iterable[str]) -> str:
    """YAML with ``configs`` (explicit data files per split) and ``dataset_info`` (features, row counts)."""
    import yaml

    by_config: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        if f.config:
            by_config[f.config][f.split].append(f)
    configs, infos = [], []
    for config, splits in by_config.items():
        configs.append({"config_name": config, "data_files": [
            {"split": split, "path": [f.path for f in fs]} for split, fs in splits.items()]})
        split_info = [{"name": split, "num_bytes": sum(f.data_bytes for f in fs), "num_examples": sum(f.rows for f in fs)}
                      for split, fs in splits.items()]
        infos.append({"config_name": config, "features": yaml_features(_kind(config)), "splits": split_info,
                      "download_size": sum(f.bytes for fs in splits.values() for f in fs),
                      "dataset_size": sum(s["num_bytes"] for s in split_info)})
    total = sum(f.rows or 0 for f in files if f.config)
    data = {
        "license": "apache-2.0",
        "language": ["en"],
        "pretty_name": pretty_name,
        "size_categories": [_size_category(total)],
        "task_categories": ["visual-question-answering", "reinforcement-learning"],
        "tags": list(tags),
        "configs": configs,
        "dataset_info": infos,
    }
    return "---\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096) + "---\n"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(out)


def _fields(kind: str) -> str:
    return _table(("field", "type", "meaning"), ((f"`{n}`", t if t != "qa" else "list of {type, question, answer}", d)
                                                  for n, t, d in COLUMNS[kind]))


def _configs_table(files: Sequence[Any]) -> str:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in files:
        if f.config:
            rows[f.config][f.split] += f.rows or 0
    return _table(("config", "splits (rows)", "holds"),
                  ((f"`{c}`", ", ".join(f"{s}: {n}" for s, n in splits.items()), KIND_TEXT[_kind(c)])
                   for c, splits in rows.items()))


def _files_table(files: Sequence[Any]) -> str:
    return _table(("file", "rows", "bytes", "sha256"),
                  ((f"`{f.path}`", "" if f.rows is None else f.rows, f.bytes, f"`{f.sha256}`") for f in files))


def _environment() -> str:
    import numpy
    import pyarrow

    from ..render.png import CODEC

    return (f"Python {platform.python_version()}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, "
            f"PNG deflate by {CODEC} (PNG and parquet bytes depend on the deflate codec and pyarrow versions; "
            "pixels, text and states do not)")


def _versions_table(pairs: Iterable[tuple[str, str, dict[str, Any]]]) -> str:
    from ..core.env import G1Env

    rows = []
    for game, preset, overrides in pairs:
        env = G1Env(game, difficulty=preset, render_mode=None, **overrides)
        v = env.versions()
        (fw, fh), (mw, mh) = v["frame_size"], env.model_frame_size
        model = "same" if env.config.model_frame == "native" else f"{mw}x{mh} ({env.config.model_resample})"
        rows.append((game, preset, json.dumps(overrides, sort_keys=True) if overrides else "", v["game_version"],
                     v["prompt_version"], f"`{v['prompt_hash']}`", f"`{v['renderer_version']}`",
                     f"`{content_hash(v['config'])}`", f"{fw}x{fh}", model))
    return _table(("game", "preset", "overrides", "rules version", "prompt version", "prompt hash", "renderer",
                   "config hash", "frame", "model_frame"), rows)


def _suites_table(names: Sequence[str]) -> str:
    from ..eval.suites import get_suite

    rows = []
    for name in names:
        s = get_suite(name)
        rows.append((f"`{s.suite_id}`", f"`{s.hash()}`", len(s.episodes), s.description))
    return _table(("suite", "hash", "episodes", "description"), rows)


QUESTIONS = """Every perception row has a `qa` list about the same frame; answers are exact strings.

| type | question | answer format |
|---|---|---|
| `cell` | what is at row r, column c (0-indexed from the top-left) | the number (2048) or tile name as in the perception text, or `empty` |
| `count` | how many tiles show a given number / are of a given kind | an integer |
| `empty` | how many cells are empty (not for Swap, whose board is always full) | an integer |
| `moves` | 2048: which moves change the board; Shisen-Sho: which pairs are connectable now; Swap: which swaps make a line | 2048: action numbers in increasing order joined by `, `; tile games: every pair once as `(r1, c1) (r2, c2)` (first cell first in reading order), pairs in reading order joined by `; `; `none` if there is none |"""


def _sampling(spec: Any) -> str:
    from ..eval.suites import PAPER_EVAL_WARMUP, PAPER_TRAIN_WARMUP
    from .sampling import EPISODE_SEED_BASE, LATE_GAME_MAX, PERCEPTION_WARMUP_MAX, TEST_SEED_BASE, TRAIN_SEED_BASE

    def fmt(table: dict, what: str) -> str:
        return ", ".join(f"{g}: {what if v is None else v}" for g, v in table.items() if g in spec.games)

    lines = [
        f"- **Seeds.** Row i of the train split uses seed {TRAIN_SEED_BASE:_} + i, of the test split "
        f"{TEST_SEED_BASE:_} + i, so train and test never share a seed, and neither shares one with the evaluation "
        "suites (seeds 0-9). Every random choice of a row is drawn from generators seeded by the row's seed alone: "
        "any row can be rebuilt on its own.",
        "- **perception**: `env.reset(seed)`, then `warmup` uniformly random *valid* moves, with `warmup` drawn "
        f"uniformly from 0..K (K per game: {fmt(PERCEPTION_WARMUP_MAX, 'rows*cols/2 - 1')}); this spreads the "
        "frames from fresh deals to late positions.",
        "- **states / `paper`**: the paper's training-state sampling, exactly `g1bench.eval.suites.start_game`: "
        "`env.reset(seed)` then `warm_up(env, seed, PAPER_TRAIN_WARMUP[game])` random moves "
        f"({', '.join(f'{g}: {PAPER_TRAIN_WARMUP[g]}' for g in spec.games if g in PAPER_TRAIN_WARMUP)}).",
        "- **states / `late-game`**: `env.reset(seed)`, then the oracle baseline (`g1bench.eval.policies.OraclePolicy`) "
        f"plays m moves, m uniform in 0..M drawn from the seed (M per game: {fmt(LATE_GAME_MAX, 'rows*cols/2')}), "
        "stopping one move before the game would end, so every state has a valid move.",
        f"- **episodes**: for each preset and baseline policy, episodes with seeds {EPISODE_SEED_BASE:_} + index, run as "
        "the evaluation harness does: `start_game` with the paper's evaluation warm-up "
        f"({', '.join(f'{g}: {PAPER_EVAL_WARMUP[g]}' for g in spec.games if g in PAPER_EVAL_WARMUP)}), one answer "
        "per step, and when a game ends inside the step budget the next game of the episode's seed stream starts.",
    ]
    if "shisensho-images" in spec.games:
        lines.append("- **Tiles.** `shisensho-images` presets whose pictures must be downloaded (CIFAR-10: `paper`, "
                     "`more-tiles`) are only built when asked for by name and available; the default build uses the "
                     "tile pack shipped with g1bench (`bundled`, `bundled-more-tiles`), so it runs offline.")
    return "\n".join(lines)


LICENCE = """The data is released under the **Apache License 2.0**, like g1bench itself.

The frames of `shisensho-images` contain tile pictures from the g1bench-emoji-v1 tile pack, derived from
Google's [Noto Emoji](https://github.com/googlefonts/noto-emoji) artwork (Copyright 2013-2017 Google Inc.),
licensed under the Apache License 2.0; see `LICENSES/tilepack-LICENSE.txt` (a copy of
`g1bench/assets/tilepack/LICENSE`) where that game is included. All other frames are drawn by g1bench's own
renderer (flat colours, shapes and a bitmap font)."""


def _example(first_config: dict[str, str]) -> str:
    perception = first_config.get("perception", "perception-2048-paper")
    lines = ["```python", "import json", "from datasets import load_dataset", "import g1bench", "",
             'REPO = "ORG/NAME"  # or the path of this folder', "",
             f'ds = load_dataset(REPO, "{perception}", split="train")',
             'row = ds[0]',
             'row["frame"]         # a PIL.Image, as drawn',
             'row["model_frame"]   # what a model is given (G1\'s size for the paper presets)',
             'print(row["prompt"], row["perception"], row["qa"][0])']
    if "states" in first_config:
        lines += ["", f'states = load_dataset(REPO, "{first_config["states"]}", split="train")',
                  'env = g1bench.make_from_state(states[0]["state"])   # the exact position, RNG included',
                  'assert env.state_hash() == states[0]["state_hash"]']
    lines += ["", "# streaming works too", f'for row in load_dataset(REPO, "{perception}", split="test", streaming=True):',
              "    break", "```"]
    return "\n".join(lines)


def render_build_card(spec: Any, files: Sequence[Any]) -> str:
    """The card of a ``g1bench data build`` folder."""
    from .sampling import overrides_for

    first: dict[str, str] = {}
    for f in files:
        if f.config:
            first.setdefault(_kind(f.config), f.config)
    games = ", ".join(f"`{g}` ({', '.join(p)})" for g, p in spec.presets)
    parts = [
        front_matter(files, "g1bench: VLM-Gym games (perception, start states, episodes)",
                     ["g1bench", "vlm-gym", "games", "perception", "synthetic"]),
        f"<!-- g1bench-build-id: {spec.build_id()} -->",
        "# g1bench: VLM-Gym games for vision-language models",
        "",
        "Frames, exact perception annotations, restorable start states and baseline trajectories of the visual "
        "games of **VLM-Gym**, from the G1 paper ([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)), generated "
        f"offline and deterministically by g1bench {__version__}.",
        "",
        f"Games (presets): {games}.",
        "",
        "## Load it",
        "",
        _example(first),
        "",
        "## Configs",
        "",
        _configs_table(files),
        "",
    ]
    for kind in ("perception", "states", "episodes", "manifests"):
        if kind in spec.configs:
            parts += [f"## Fields of `{kind}` configs", "", _fields(kind), ""]
    if "manifests" in spec.configs:
        parts += ["The files `manifests/<suite>.json` hold the same manifests with the full suite definition "
                  "(`Suite.to_dict()`), for use without `datasets`.", ""]
    if "perception" in spec.configs:
        parts += ["## Question types", "", QUESTIONS, ""]
    parts += ["## Sampling", "", _sampling(spec), "",
              "## How it was generated", "",
              "```", spec.command(), "```", "",
              f"- g1bench {__version__}; build id `{spec.build_id()}` (a hash of the options above).",
              f"- {_environment()}.",
              "- Rebuilding with the same command and versions gives byte-identical files (SHA-256 below); `OUT` and "
              "`--workers` do not change them.", "",
              "Rules, prompts and renderer of every (game, preset) in this dataset (`env.versions()`):", "",
              _versions_table((g, p, overrides_for(g)) for g, ps in spec.presets for p in ps), "",
              *(["Evaluation suites at this version (`g1bench.eval.suites.get_suite(name).hash()`), whose seed "
                 "manifests the `manifests` config holds:", "", _suites_table(PUBLISHED_SUITES), ""]
                if "manifests" in spec.configs else []),
              "## Files", "", _files_table(files), "",
              "## Licence", "", LICENCE, "",
              "## Citation", "", "If you use this data, please cite the G1 paper:", "", "```bibtex", CITATION, "```", ""]
    return "\n".join(parts)


def render_run_card(run: dict[str, Any], run_name: str, pairs: Sequence[tuple[str, str, dict[str, Any]]],
                    files: Sequence[Any], run_json_sha: str) -> str:
    """The card of a ``g1bench data from-run`` folder."""
    suite = run.get("suite") or {}
    policy = run.get("policy") or {}
    first: dict[str, str] = {}
    for f in files:
        if f.config:
            first.setdefault(_kind(f.config), f.config)
    episodes = first.get("episodes", "episodes-2048")
    parts = [
        front_matter(files, "g1bench evaluation run (episodes)", ["g1bench", "vlm-gym", "games", "evaluation"]),
        f"<!-- g1bench-from-run: {run_json_sha[:16]} -->",
        "# g1bench evaluation run: step-by-step episodes",
        "",
        f"The episodes of one g1bench evaluation run of the VLM-Gym games from the G1 paper "
        f"([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)), converted with g1bench {__version__}.",
        "",
        _table(("", ""), [
            ("suite", f"`{suite.get('suite_id', suite.get('name', '?'))}`"),
            ("suite hash", f"`{suite.get('hash', '?')}`"),
            ("policy", f"`{json.dumps(policy, sort_keys=True)}`"),
            ("run", f"`{run_name}` (its `run.json` is copied here, sha256 `{run_json_sha}`)"),
        ]),
        "",
        "## Load it",
        "",
        "```python",
        "from datasets import load_dataset",
        'REPO = "ORG/NAME"  # or the path of this folder',
        f'ds = load_dataset(REPO, "{episodes}", split="train")',
        'ds[0]["frame"], ds[0]["answer"], ds[0]["reward"]',
        "```",
        "",
        "## Configs",
        "",
        _configs_table(files),
        "",
        "## Fields",
        "",
        _fields("episodes"),
        "",
        "Prompts are rebuilt from each episode's game, difficulty and overrides with this g1bench version and "
        "checked against the run's prompt hashes.",
        "",
        "## How it was generated",
        "",
        "```",
        "g1bench data from-run RUN_DIR OUT",
        "```",
        "",
        f"- g1bench {__version__}; {_environment()}.",
        "",
        _versions_table(pairs),
        "",
        "## Files",
        "",
        _files_table(files),
        "",
        "## Licence",
        "",
        LICENCE,
        "",
        "## Citation",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
    ]
    return "\n".join(parts)
