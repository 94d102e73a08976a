"""Errors that users see: each names the problem, the file or sample, and the fix."""

from __future__ import annotations

import errno


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


#: errno values meaning "no space left": ENOSPC (disk full) and EDQUOT (quota exceeded).
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def disk_full_error(exc: OSError, dest: object = None) -> ExomirInputError:
    """The user-facing error for a write that failed because the disk (or quota) is full."""
    target = str(dest or exc.filename or "an output file")
    return ExomirInputError(
        f"the disk is full ({exc.strerror or exc}); the job's partial outputs were removed",
        where=f"writing {target}",
        fix="free space on that file system (or move the working directory or download cache "
        "to a larger one), then run the workflow again: finished jobs are kept",
    )
