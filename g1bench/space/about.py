"""The Space's texts: the header, the About tab and the tabs' short notes (Markdown, no HTML)."""

from __future__ import annotations

from .. import __version__
from ..leaderboard.scoring import OVERALL_FORMULA

TITLE = "g1bench: VLM-Gym games for vision-language models"

INTRO = (
    "The four visual games of the G1 paper's VLM-Gym ([arXiv 2505.13426](https://arxiv.org/abs/2505.13426)): "
    "**play** them yourself, **watch** a baseline or a model play step by step, **replay** evaluation runs frame "
    "by frame, compare verified results on the **leaderboard**, and **submit** your own run."
)

PLAY_NOTE = (
    "You see exactly the frame a model is shown. **2048**: arrow buttons or your keyboard's arrow keys. "
    "**Shisen-Sho / Swap**: click two tiles (the first one is outlined in orange)."
)

WATCH_NOTE = (
    "A baseline or a model plays one game of up to 100 steps. **Start** deals the board, **Step** asks for one "
    "move, **Play** keeps going at the chosen speed until **Pause**. For your own OpenAI-compatible endpoint, the "
    "key is kept in this browser session's server memory only: it is never saved, logged, shown or recorded."
)

REPLAY_NOTE = (
    "Pick an entry of the results store (the leaderboard's verified runs), a run from this Space's runs folder, or "
    "upload a run folder as a `.zip` (a folder written by `g1bench eval`: its step log and `frames/`). Uploads are "
    "checked and only their data files are read; nothing in them is executed. Steps whose frame was not stored "
    "are drawn by replaying the logged answers."
)

RECORD_NOTE = (
    "Opt in to add your games to a public dataset of human play (a human baseline and training data). "
    "Saved: the frames, your moves, rewards and thinking time per move, under a random tag; nothing that "
    "identifies you. Undone moves are left out."
)

LEADERBOARD_NOTE = (
    "Every run below was **verified**: its step log replays through the games to exactly the recorded steps and "
    "figures, and it is verified again whenever the leaderboard is aggregated. Per game: the paper's metric with "
    "its 95% interval; **overall**: the score normalised between g1bench's random (0) and oracle (100) baselines. "
    "Sort by any column from the ⋮ menu of its header. The paper's own numbers are listed apart, below: they are "
    "reported, not verified."
)

SUBMIT_NOTE = (
    "Upload a run folder as a `.zip` (the folder `g1bench eval -o DIR` wrote: `run.json`, `results.json`, "
    "`steps.jsonl`; frames are not needed) or name a Hub dataset repo that holds one (`ORG/NAME`, or "
    "`ORG/NAME/path/to/run`). The Space runs `g1bench verify` on it: a run that does not verify, is incomplete, "
    "is a shard or uses a custom suite is refused with the reason. Nothing you upload is executed."
)

ABOUT = f"""
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

## The paper protocol (suite `paper-v2`)

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
g1bench push runs/qwen --repo ORG/g1bench-results                            # verifies first; refuses what does not
```

Or submit the run folder (zipped) on the **Submit** tab. `g1bench leaderboard --repo ORG/g1bench-results` prints
the same table as this Space.

## The overall score ({OVERALL_FORMULA})

For each (game, difficulty) cell `g` of a suite, `norm_g = 100 * (score_g - random_g) / (oracle_g - random_g)`,
where `score_g` is the model's mean paper metric in the cell and `random_g`, `oracle_g` are those of g1bench's
`random` (policy seed 0) and `oracle` baselines on the same suite hash. A game's score is the mean of `norm_g` over
its cells, the overall score the mean over the games: 0 = random, 100 = oracle, not clipped. Its 95% interval is a
percentile bootstrap over episodes (2,000 resamples within each cell), and a model ranks above another only when
its overall score is higher with 95% confidence; otherwise they share a rank (`=2`).

## Run this Space yourself

```bash
pip install 'g1bench[space]'
g1bench space --runs-dir runs                        # http://127.0.0.1:7860, offline, on your local results store
g1bench space --deploy ORG/my-space --with-wheel     # upload it as a Hugging Face Space
```

g1bench {__version__} · Apache-2.0 · G1 paper: Chen et al., 2025.
"""

__all__ = ["TITLE", "INTRO", "PLAY_NOTE", "WATCH_NOTE", "REPLAY_NOTE", "RECORD_NOTE", "LEADERBOARD_NOTE",
           "SUBMIT_NOTE", "ABOUT"]
