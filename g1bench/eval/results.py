"""The results file: one typed owner (pydantic), a JSON Schema document, checks of meaning, atomic writes.

``results.json`` (schema ``g1bench-results/2``)::

    {
      "schema": "g1bench-results/2",
      "complete": true, "episodes_done": 40, "episodes_total": 40,
      "provenance": {
        "g1bench_version": "0.3.0",
        "suite": {"name": "paper", "version": 3, "suite_id": "paper-v3", "hash": "…"},
        "shard": null,                                    # or {"index": I, "count": N}
        "policy": {"policy": "random", "backend": "builtin", …model id, revision, sampling…},
        "env_versions": {…rules/prompt/renderer versions per game and difficulty…},
        "image_size": {"2048/paper": [640, 840], …},    # (width, height) of the picture the model was given
        "invalid_answer": {"2048": "random-move", …},
        "hardware": {"platform": …, "python": …, "cpu_count": …},
        "start_time": "…", "end_time": "…"
      },
      "results": {"2048/paper": {"mean": …, "std": …, "ci95": [lo, hi], "n": …, "parse_failure_rate": …, …}}
    }

:class:`Results` is the schema; ``python -m g1bench.eval.results`` prints its JSON Schema (published as
``g1bench/eval/results.schema.json``). :func:`validate` checks types *and* meaning on the file alone (a
mean inside its CI, rates within [0, 1], counts consistent with each other, group keys equal to their
game, difficulty and history, known games and presets); ``g1bench verify`` then checks the file against its suite
and recomputes every figure from the step log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from ..core.config import MAX_HISTORY
from ..core.files import FileFormatError, read_json, write_atomic as _write_atomic

SCHEMA = "g1bench-results/2"
#: Room for float rounding when checking that a mean lies inside its interval.
TOLERANCE = 1e-9


class ResultsError(ValueError):
    """A results file is missing, unreadable, does not follow the schema or does not make sense; the
    message names the field."""


#: an integer that float arithmetic takes (a 400-digit one would overflow every mean and ratio computed from it)
Int = Annotated[StrictInt, Field(ge=-(2 ** 63), le=2 ** 63 - 1)]
Number = Union[Int, StrictFloat]
NonNegative = Annotated[Number, Field(ge=0)]
Rate = Optional[Annotated[Number, Field(ge=0, le=1)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class GroupResult(_Strict):
    """Every reported number of one (game, difficulty) cell."""

    game: StrictStr = Field(description="game name (g1bench games)")
    difficulty: StrictStr = Field(description="difficulty preset")
    history: Optional[Annotated[Int, Field(ge=1, le=MAX_HISTORY)]] = Field(
        None, description="past turns in the model's context (the history knob); absent for G1's single step")
    metric: StrictStr = Field(description="what `mean` measures (the paper metric of the game)")
    n: Annotated[Int, Field(ge=1)] = Field(description="episodes in the cell")
    mean: Number = Field(description="mean paper metric per episode")
    std: NonNegative = Field(description="sample standard deviation over episodes (0 for n = 1)")
    ci95: Annotated[list[Number], Field(min_length=2, max_length=2)] = Field(
        description="95% percentile-bootstrap interval of the mean [low, high]")
    steps: Annotated[Int, Field(ge=0)] = Field(description="policy steps played in the cell")
    success_rate: Rate = None
    parse_failure_rate: Rate = None
    invalid_action_rate: Rate = Field(None, description="among answers that parsed")
    format_rate: Rate = None
    perception_answered: Annotated[Int, Field(ge=0)] = Field(description="answers with a <perception> block")
    perception_accuracy: Rate = Field(None, description="exact perception among answers with a block (P_acc)")
    reasoning_accuracy: Rate = Field(None, description="success given correct perception (R_acc)")
    mean_output_tokens: Optional[NonNegative] = None
    mean_input_tokens: Optional[NonNegative] = None
    mean_latency_s: Optional[NonNegative] = None
    cost_usd: Optional[NonNegative] = Field(None, description="total cost of the cell's requests, where priced")
    games_played: Annotated[Int, Field(ge=0)] = Field(description="games started (a game that ends "
                                                                        "inside the budget continues with the next)")
    answer_grammar: Optional[StrictStr] = Field(None, description="how answers were read (g1 or lenient)")
    prompt_version: Optional[StrictStr] = Field(None, description="the prompt text version shown")


class SuiteRef(_Strict):
    name: StrictStr
    version: Int
    suite_id: StrictStr
    hash: StrictStr


class Shard(_Strict):
    index: Annotated[Int, Field(ge=0)]
    count: Annotated[Int, Field(ge=1)]


class Provenance(_Strict):
    g1bench_version: StrictStr
    suite: SuiteRef
    shard: Optional[Shard] = None
    policy: dict[str, Any] = Field(description="the policy's describe(): model, revision, backend, sampling, …")
    env_versions: dict[str, Any]
    image_size: dict[str, Any] = Field(description="per (game, difficulty): [width, height] of the picture the model "
                                             "was given (the config's model_frame, else the frame as drawn)")
    invalid_answer: dict[str, StrictStr]
    hardware: dict[str, Any]
    start_time: StrictStr
    end_time: Optional[StrictStr] = None


class Results(_Strict):
    """The whole ``results.json``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, title="g1bench results",
                              json_schema_extra={"$id": "https://github.com/g1bench/g1bench/results.schema.json"})

    schema_: Literal["g1bench-results/2"] = Field(alias="schema")
    complete: StrictBool
    episodes_done: Annotated[Int, Field(ge=0)]
    episodes_total: Annotated[Int, Field(ge=0)]
    provenance: Provenance
    results: dict[str, GroupResult]


def json_schema() -> dict[str, Any]:
    """The JSON Schema document of ``results.json``."""
    return Results.model_json_schema(by_alias=True)


def _where(loc: tuple) -> str:
    out = "results"
    for part in loc:
        out += f"[{part!r}]" if isinstance(part, int) or (isinstance(part, str) and "/" in part) else f".{part}"
    return out.replace(".schema_", ".schema")


_NUMBER_ERRORS = ("int_type", "float_type", "int_parsing", "float_parsing", "int_from_float")
_WANT = {"string_type": "text", "bool_type": "true or false", "dict_type": "an object", "list_type": "a list",
         "model_type": "an object", "literal_error": "one of the allowed values"}


def _describe(err: dict[str, Any]) -> str:
    """One readable line for a pydantic error: where, what was expected, what was found."""
    loc = list(err["loc"])
    union = False
    # pydantic names the member of a union it tried ('int', 'float', 'constrained-int', ...): not a field
    while loc and isinstance(loc[-1], str) and (loc[-1] in ("int", "float", "str", "bool", "none")
                                                 or "-" in loc[-1] or "[" in loc[-1]):
        loc.pop()
        union = True
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return f"{_where(tuple(loc[:-1]))}: missing field {loc[-1]!r}"
    if kind == "extra_forbidden":
        return f"{_where(tuple(loc))}: unknown field (not in schema {SCHEMA})"
    got = "a boolean" if isinstance(value, bool) else type(value).__name__
    if kind in _NUMBER_ERRORS:
        return f"{_where(tuple(loc))}: expected {'a number' if union else 'an integer'}, got {got}"
    if kind in _WANT:
        return f"{_where(tuple(loc))}: expected {_WANT[kind]}, got {got}"
    if kind == "finite_number":
        return f"{_where(tuple(loc))}: is {value} (numbers must be finite)"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return f"{_where(tuple(loc))}: {err['msg'].lower()} (got {shown})"


def _check_meaning(r: Results) -> None:
    """What types cannot say: numbers that contradict each other."""
    from ..games import GAMES
    from .history import group_key

    for key, g in r.results.items():
        where = f"results.results[{key!r}]"
        if key != group_key(g.game, g.difficulty, g.history or 0):
            raise ResultsError(f"{where}: the group key must be 'game/difficulty' (+ '@hK' at history K) = "
                               f"{group_key(g.game, g.difficulty, g.history or 0)!r}")
        if g.game not in GAMES:
            raise ResultsError(f"{where}.game: unknown game {g.game!r}; games: {sorted(GAMES)}")
        if g.difficulty not in GAMES[g.game].Config.presets:
            raise ResultsError(f"{where}.difficulty: {g.game} has no preset {g.difficulty!r}")
        lo, hi = g.ci95
        if lo > hi:
            raise ResultsError(f"{where}.ci95: low {lo} is above high {hi}")
        if not lo - TOLERANCE * max(1.0, abs(lo)) <= g.mean <= hi + TOLERANCE * max(1.0, abs(hi)):
            raise ResultsError(f"{where}.mean: {g.mean} lies outside its own 95% CI [{lo}, {hi}]")
        if g.n == 1 and (g.std != 0 or lo != hi):
            raise ResultsError(f"{where}: one episode has std 0 and a point interval, got std {g.std}, ci95 {g.ci95}")
        if g.steps < g.n:
            raise ResultsError(f"{where}.steps: {g.steps} steps cannot hold {g.n} episodes")
        if g.games_played < g.n:
            raise ResultsError(f"{where}.games_played: {g.games_played} is below the {g.n} episodes played")
        if g.perception_answered > g.steps:
            raise ResultsError(f"{where}.perception_answered: {g.perception_answered} exceeds the {g.steps} steps")
        if (g.perception_answered == 0) != (g.perception_accuracy is None):
            raise ResultsError(f"{where}.perception_accuracy: must be null exactly when no answer had a perception block")
        if g.game != "2048" and g.mean > g.steps / g.n + TOLERANCE:
            raise ResultsError(f"{where}.mean: {g.mean} successful moves per episode is more than the "
                               f"{g.steps / g.n:g} steps per episode")
        if g.game != "2048" and g.mean < 0:
            raise ResultsError(f"{where}.mean: {g.mean} successful moves cannot be negative")
    done, total = r.episodes_done, r.episodes_total
    if done > total:
        raise ResultsError(f"results.episodes_done: {done} is not within 0..episodes_total ({total})")
    if r.complete != (done == total):
        raise ResultsError(f"results.complete: is {r.complete} but {done} of {total} episodes are done")
    held = sum(g.n for g in r.results.values())
    if held != done:
        raise ResultsError(f"results.results: the groups hold {held} episodes, episodes_done says {done}")
    shard = r.provenance.shard
    if shard is not None and shard.index >= shard.count:
        raise ResultsError(f"results.provenance.shard: index {shard.index} is not below count {shard.count}")


def validate(data: Any) -> dict[str, Any]:
    """Check ``data`` against the schema and for meaning; return it, or raise :class:`ResultsError`
    naming the bad field."""
    if not isinstance(data, dict):
        raise ResultsError(f"results: expected a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema != SCHEMA:
        hint = " (written by g1bench 0.1; re-run the evaluation with this version)" if schema == "g1bench-results/1" else \
            " (written by another g1bench version?)"
        raise ResultsError(f"results.schema: expected {SCHEMA!r}, got {schema!r}{hint}")
    try:
        model = Results.model_validate(data)
    except ValidationError as e:
        # a union reports one error per member: the finiteness one says more than "not an integer"
        errors = sorted(e.errors(include_url=False), key=lambda err: err["type"] != "finite_number")
        lines = list(dict.fromkeys(_describe(err) for err in errors))
        raise ResultsError(lines[0] + (f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else "")) from None
    _check_meaning(model)
    return data


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a results file (or the ``results.json`` inside a run directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        data = read_json(p)
    except FileFormatError as e:
        msg = str(e).replace("no such file", "no such results file")
        raise ResultsError(msg) from None
    try:
        return validate(data)
    except ResultsError as e:
        raise ResultsError(f"{p}: {e}") from None


def write_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON to ``path`` via a temp file + rename (see :func:`g1bench.core.files.write_atomic`)."""
    _write_atomic(path, data)


if __name__ == "__main__":  # python -m g1bench.eval.results > g1bench/eval/results.schema.json
    print(json.dumps(json_schema(), indent=2))


__all__ = ["SCHEMA", "Results", "GroupResult", "Provenance", "ResultsError", "validate", "load", "write_atomic",
           "json_schema"]
