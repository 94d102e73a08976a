"""Errors that users see: each names the problem, the file or sample, and the fix."""

from __future__ import annotations


class ExomirInputError(ValueError):
    """Bad input detected before or during a stage.

    The message is meant for the user, so it always says which file or sample
    is affected and how to fix it.
    """

    def __init__(self, problem: str, *, where: str | None = None, fix: str | None = None):
        parts = [problem if where is None else f"{where}: {problem}"]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))
        self.problem = problem
        self.where = where
        self.fix = fix
