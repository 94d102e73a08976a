"""Logging for rule scripts: everything a job says goes to its Snakemake log."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Iterator

from exomir.errors import DISK_FULL_ERRNOS, disk_full_error


@contextlib.contextmanager
def log_to(path: str | None) -> Iterator[logging.Logger]:
    """Send logging and stderr to ``path`` for the duration of a rule script.

    An exception is written to the log with its traceback and re-raised, so
    the job fails and the user finds the reason in ``logs/``.
    """
    logger = logging.getLogger("exomir")
    logger.setLevel(logging.INFO)
    if path is None:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        stream = None
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", encoding="utf-8")
        handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    old_stderr = sys.stderr
    if stream is not None:
        sys.stderr = stream
    try:
        yield logger
    except OSError as exc:
        traceback.print_exc(file=stream or old_stderr)
        if exc.errno in DISK_FULL_ERRNOS:  # a full disk is the user's to fix: say so plainly
            raise disk_full_error(exc) from None
        raise
    except BaseException:
        traceback.print_exc(file=stream or old_stderr)
        raise
    finally:
        sys.stderr = old_stderr
        logger.removeHandler(handler)
        if stream is not None:
            stream.close()
