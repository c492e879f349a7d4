"""The errors a training recipe reports as one line (bad options or inputs), not as a traceback."""

from __future__ import annotations

from ..core.config import ConfigError
from ..data.errors import DataError
from ..models.config import ModelError
from .preflight import PreflightError
from .rewards import RewardInputError, UnknownRewardError
from .states import StatesError

USER_ERRORS: tuple[type[BaseException], ...] = (PreflightError, StatesError, RewardInputError, UnknownRewardError,
                                                 DataError, ModelError, ConfigError)

__all__ = ["USER_ERRORS"]
