"""The wire types of the g1bench OpenEnv server: one action, one observation, one state (pydantic, as OpenEnv wants)."""

from __future__ import annotations

from typing import Any, Optional

from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field, model_validator


class G1Action(Action):
    """One move: the model's answer text, read by the game's answer grammar exactly as ``g1bench eval`` reads it
    (``<answer>2</answer>`` in 2048, ``<answer>(0, 1) (2, 3)</answer>`` in the tile games).

    Whatever a client sends is a move: text that cannot be played, a missing answer, a value that is not text (read as
    its JSON text) or unknown fields (dropped) give a step with a parse error and reward -1, never a refused request.
    """

    answer: str = Field(default="", description="the model's answer text, e.g. '<answer>(0, 1) (2, 3)</answer>'")

    @model_validator(mode="before")
    @classmethod
    def _any_value_is_a_move(cls, data: Any) -> Any:
        import json

        if not isinstance(data, dict):
            return {"answer": json.dumps(data, default=str)}
        answer = data.get("answer", "")
        if not isinstance(answer, str):
            answer = json.dumps(answer, default=str)
        kept = {"answer": answer}
        if isinstance(data.get("metadata"), dict):
            kept["metadata"] = data["metadata"]
        return kept


class G1Observation(Observation):
    """What a session shows after ``reset`` or a move.

    ``frame_png`` is the picture a model is given (``env.model_observation()``: G1's sizes for the ``paper`` presets),
    as base64 PNG; :meth:`image` decodes it. ``error`` is set, and nothing else changed, when a request could not be
    served (no game started, a bad reset argument, the game is over).
    """

    game: Optional[str] = Field(default=None, description="the game being played")
    difficulty: Optional[str] = Field(default=None, description="its preset ('custom' for a dict of knobs)")
    prompt: str = Field(default="", description="the game's prompt (the text shown beside the frame)")
    frame_png: str = Field(default="", description="the model's picture of the board, base64 PNG")
    frame_size: list[int] = Field(default_factory=list, description="[width, height] of that picture")
    feedback: str = Field(default="", description="one line saying what the last move did")
    parse_error: Optional[str] = Field(default=None, description="why the last answer could not be read")
    valid: Optional[bool] = Field(default=None, description="the last move was legal and changed the board")
    success: Optional[bool] = Field(default=None, description="the paper's success test for the last move")
    score_delta: int = Field(default=0, description="points the last move scored")
    score: float = Field(default=0.0, description="the session's score by the paper metric")
    step: int = Field(default=0, description="moves made in this session")
    game_index: int = Field(default=0, description="which game of the episode's seed stream is on the board")
    seed: Optional[int] = Field(default=None, description="the seed the game was dealt from (None for a snapshot)")
    state_hash: str = Field(default="", description="env.state_hash() of the board now")
    perception: Optional[str] = Field(default=None, description="the perception ground truth, when asked for")
    error: Optional[str] = Field(default=None, description="why the request could not be served")

    def image(self):
        """The frame as a PIL image (None when there is none)."""
        if not self.frame_png:
            return None
        import base64
        import io

        from PIL import Image

        return Image.open(io.BytesIO(base64.b64decode(self.frame_png))).convert("RGB")


class G1State(State):
    """A session's state: where it is, and the snapshot that restores it exactly (``reset(state=snapshot)``,
    ``g1bench.make_from_state(snapshot)``)."""

    game: Optional[str] = None
    difficulty: Optional[str] = None
    seed: Optional[int] = None
    score: float = 0.0
    over: bool = True
    state_hash: str = ""
    snapshot: Optional[dict[str, Any]] = Field(default=None, description="env.get_state() (format g1bench-state/1)")


__all__ = ["G1Action", "G1Observation", "G1State"]
