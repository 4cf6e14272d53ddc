"""The spool: scratch folders under the data folder for files on their way in (uploads,
OCR work, transfer packages). Each folder is removed when its work ends, whichever way;
one left by a process that died (SIGKILL, power cut) is swept at the next start.

Public surface: :func:`scratch`, :func:`sweep`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

# a folder of no process (written before folders named their owner) this old is left over
_UNOWNED_AGE = 3600.0


def scratch(spool_dir: Path) -> tempfile.TemporaryDirectory[str]:
    """A scratch folder of this process, removed when the ``with`` block ends."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=spool_dir, prefix=f"{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep(spool_dir: Path) -> int:
    """Remove what processes that are gone left in the spool; returns how many entries."""
    if not spool_dir.is_dir():
        return 0
    removed = 0
    for entry in spool_dir.iterdir():
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit():
            if _alive(int(owner)):
                continue
        elif time.time() - entry.lstat().st_mtime < _UNOWNED_AGE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("removed %d spool entries left by processes that died", removed)
    return removed
