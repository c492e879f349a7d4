"""The Space's texts: the header, each game's rule, the tabs' short notes and the About tab (Markdown, no HTML).

Texts that depend on the Space (its limits, its results repo, the suite versions of this g1bench) are functions
of the settings; suite ids always come from :mod:`g1bench.eval.suites`, never written here.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..leaderboard.scoring import OVERALL_FORMULA

TITLE = "g1bench: VLM-Gym games for vision-language models"

INTRO = (
    "The visual games of the G1 paper's VLM-Gym ([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)): verified "
    "results on the **leaderboard**, **play** the games yourself, **watch** a model play, **replay** runs, "
    "**submit** your own."
)

#: one line per game: what a move is and when it succeeds (shown under the board in Play and Watch)
GAME_RULES = {
    "2048": "Slide every tile up, right, down or left; two equal tiles that meet merge into one. "
            "A move that merges tiles earns +1, any other -1.",
    "shisensho": "Pick two identical tiles that can be joined by a path of at most three straight lines (two turns) "
                 "through empty cells or around the board; they are removed.",
    "shisensho-images": "Pick two pictures of the same class (e.g. two different cats) that can be joined by a path "
                        "of at most three straight lines through empty cells or around the board; they are removed.",
    "swap": "Swap two neighbouring tiles (side by side, not diagonal) so that three or more of a kind line up.",
}


def rule_line(game: str) -> str:
    """The game's rule as one line of Markdown (empty for a game without one)."""
    from .sessions import GAME_LABELS

    rule = GAME_RULES.get(game)
    return f"**{GAME_LABELS.get(game, game)}**: {rule}" if rule else ""


PLAY_NOTE = (
    "You see the board as the game draws it; a model gets the same picture resized to its preset's frame size "
    "(*Show what a model gets*). **2048**: the arrow buttons, your keyboard's arrow keys or a swipe "
    "on the board. **Shisen-Sho / Swap**: click two tiles (the first one is outlined in orange)."
)


def watch_note(visitor_limit_s: float, model_limit_s: float) -> str:
    """The Watch tab's note, with the time limits of a step."""
    return (
        "A baseline or a model plays one game of up to 100 steps. **Start** deals the board, **Step** asks for one "
        "move, **Play** keeps going at the chosen speed, **Stop** ends it at once (a step still waiting for an answer "
        f"is not played). **Time limit**: your own endpoint gets **{visitor_limit_s:g} s per step** (this Space's own "
        f"model {model_limit_s:g} s); a slower answer is not played. Your key stays in this browser session's server "
        "memory only: never saved, logged, shown or recorded."
    )


REPLAY_NOTE = (
    "Pick a verified entry of the leaderboard or a run of this Space, or upload a run folder as a `.zip` (what "
    "`g1bench eval -o DIR` wrote). Steps whose frame was not stored are drawn by replaying the logged answers; "
    "nothing uploaded is executed."
)

RECORD_NOTE = (
    "Opt in to add your games to a public dataset of human play (a human baseline and training data). "
    "Saved: the frames, your moves, rewards and thinking time per move, under a random tag; nothing that "
    "identifies you. Undone moves are left out."
)

LEADERBOARD_NOTE = (
    "Every run here was **verified**: its step log replays through the games to exactly its recorded figures. "
    "**overall**: 0 = random, 100 = oracle (see *How to read this*)."
)

SUBMIT_NOTE = (
    "Upload a run folder as a `.zip` (the folder `g1bench eval -o DIR` wrote: `run.json`, `results.json`, "
    "`steps.jsonl`; frames are not needed) or name a Hub dataset repo that holds one (`ORG/NAME`, or "
    "`ORG/NAME/path/to/run`). Each submission is verified on its own (`g1bench verify`: its step log replayed "
    "through the games); several can wait in line, and you see each one's status below until it is on the board. "
    "A run that does not verify, is incomplete, is a shard or uses a custom suite is refused with the reason. "
    "Nothing you upload is executed."
)

G1_BIBTEX = """@article{chen2025g1,
  title   = {G1: Bootstrapping Perception and Reasoning Abilities of Vision-Language Model via Reinforcement Learning},
  author  = {Chen, Liang and Gao, Hongcheng and Liu, Tianyu and Huang, Zhiqi and Sung, Flood and Zhou, Xinyu
             and Wu, Yuxin and Chang, Baobao},
  journal = {arXiv preprint arXiv:2505.13426},
  year    = {2025},
  url     = {https://arxiv.org/abs/2505.13426}
}"""


def g1bench_bibtex(code_url: str) -> str:
    """The BibTeX entry for g1bench itself (this version)."""
    return ("@software{g1bench,\n"
            "  title   = {g1bench: VLM-Gym games, evaluation and a verified leaderboard for vision-language models},\n"
            "  author  = {{g1bench contributors}},\n"
            "  year    = {2025},\n"
            f"  version = {{{__version__}}},\n"
            f"  url     = {{{code_url}}}\n"
            "}")


def about_text(settings: Any, results_repo: str | None = None, hub: str = "https://huggingface.co") -> str:
    """The About tab: what g1bench measures, the paper protocol, how to evaluate and publish, the overall score,
    links (code, the results dataset, the datasets) and how to cite."""
    from ..eval.suites import get_suite

    paper = get_suite("paper")
    hub = hub.rstrip("/")
    links = [f"- **Code**: [{settings.code_url}]({settings.code_url}) (Apache-2.0)"]
    if results_repo:
        links.append(f"- **Results dataset** (every verified run of this leaderboard, with its step log): "
                     f"[{results_repo}]({hub}/datasets/{results_repo})")
    else:
        links.append("- **Results dataset**: this Space keeps its results in a folder of its own; publish yours to a "
                     "Hub dataset repo with `g1bench push RUN_DIR --repo ORG/NAME`")
    if settings.datasets_repo:
        links.append(f"- **Datasets** (episodes, perception and training data of the games): "
                     f"[{settings.datasets_repo}]({hub}/datasets/{settings.datasets_repo})")
    else:
        links.append("- **Datasets**: `g1bench data build` writes the games' episodes, perception and training data "
                     "as Hugging Face datasets, and `g1bench data push` publishes them")
    links.append(f"- **Natural-image tiles**: [CIFAR-10]({hub}/datasets/uoft-cs/cifar10) (Krizhevsky, 2009)")
    links.append("- **The G1 paper**: [arXiv 2505.13426](https://arxiv.org/abs/2505.13426), its code "
                 "[github.com/chenllliang/G1](https://github.com/chenllliang/G1)")
    return f"""
## What g1bench measures

Vision-language models that must **act**, not just describe. Each game shows the model a rendered frame and a
text prompt; the model answers with `<perception>…</perception><think>…</think><answer>…</answer>` and the game
plays the answer. Four games from the G1 paper:

| game | the move | reward (per step) |
|---|---|---|
| **2048** | a direction (0 Up, 1 Right, 2 Down, 3 Left) | +1 if tiles merged, else -1 |
| **Shisen-Sho** | two tiles `(r1, c1) (r2, c2)` that match and connect with at most 2 turns | +1 if the pair is removed, else -1 |
| **Shisen-Sho (natural images)** | the same with photo tiles (CIFAR-10) that match by class | same |
| **Swap** (match-3) | two neighbouring tiles to swap | +1 if the swap makes a line of 3, else -1 |

Every game has difficulty presets on two axes: **perception** (what it takes to see the board: tile set,
resolution, labels) and **reasoning** (what it takes to play it: board size, number of tile kinds).
Beyond the game score, g1bench reports **perception accuracy** (does the model's `<perception>` match the true
board exactly?) and **reasoning accuracy** (do its moves succeed when it saw the board right?), the paper's
decomposition of why a model fails. The `grid` suite plays every preset, and the leaderboard draws a
perception x reasoning heatmap per model from it.

## The paper protocol (suite `{paper.suite_id}`)

10 episodes of 100 policy steps per game at each game's `paper` preset, with **G1's exact prompts and answer
grammar**. 2048 starts after 100 random warm-up moves and is scored by the merge score summed over the 100 steps
(an unparseable answer plays a random move, the paper's test-time rule); the tile games count successful moves
(an unparseable answer is a failed move). When a game ends inside the budget, the next game starts from the
next seed. Every seed, prompt and renderer version is pinned in the suite's hash, so a run's numbers are
comparable with any other run of the same suite hash.

## Evaluate a model, verify, publish

```bash
pip install g1bench
g1bench eval --model oracle --suite paper -o runs/oracle                     # a baseline: random, random-legal, oracle
g1bench eval --model Qwen/Qwen2.5-VL-7B-Instruct --suite paper -o runs/qwen  # a Hub VLM (vLLM or transformers)
g1bench eval --model gpt-4o --base-url https://api.openai.com/v1 --api-key-env OPENAI_API_KEY -o runs/gpt-4o
g1bench report runs/qwen --videos                                            # table, plots and GIF replays
g1bench verify runs/qwen                                                     # every figure recomputed from the log
g1bench push runs/qwen --repo {results_repo or "ORG/g1bench-results"}   # verifies first; refuses what does not
```

Or submit the run folder (zipped) on the **Submit** tab.

## The overall score ({OVERALL_FORMULA})

For each (game, difficulty) cell `g` of a suite, `norm_g = 100 * (score_g - random_g) / (oracle_g - random_g)`,
where `score_g` is the model's mean paper metric in the cell and `random_g`, `oracle_g` are those of g1bench's
`random` (policy seed 0) and `oracle` baselines on the same suite hash. A game's score is the mean of `norm_g` over
its cells, the overall score the mean over the games: 0 = random, 100 = oracle, not clipped. Its 95% interval is a
percentile bootstrap over episodes (2,000 resamples within each cell), and a model ranks above another only when
its overall score is higher with 95% confidence; otherwise they share a rank (`=2`).

## Links

{chr(10).join(links)}

## Cite

The G1 paper (VLM-Gym, the games and the protocol):

```bibtex
{G1_BIBTEX}
```

g1bench (this re-implementation, its evaluation harness and leaderboard):

```bibtex
{g1bench_bibtex(settings.code_url)}
```

## Run this Space yourself

```bash
pip install 'g1bench[space]'
g1bench space --runs-dir runs                        # http://127.0.0.1:7860, offline, on your local results store
g1bench space --deploy ORG/my-space --with-wheel     # upload it as a Hugging Face Space
```

g1bench {__version__} · Apache-2.0 · G1 paper: Chen et al., 2025.
"""


__all__ = ["TITLE", "INTRO", "GAME_RULES", "rule_line", "PLAY_NOTE", "watch_note", "REPLAY_NOTE", "RECORD_NOTE",
           "LEADERBOARD_NOTE", "SUBMIT_NOTE", "G1_BIBTEX", "g1bench_bibtex", "about_text"]
