"""The error every reader of input raises: a message with the 1-based line and column it is about."""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be turned into documents; line/column are 1-based, 0 when unknown."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
