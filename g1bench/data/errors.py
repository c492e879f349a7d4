"""The one exception the data commands raise for bad input; its message says what to do."""


class DataError(Exception):
    """Bad input to a data command (unknown game or preset, a non-empty output folder, a missing token, ...)."""
