"""Reading the files a user names. Only regular files are read: a device such as /dev/zero never
ends and a pipe may never start, and either would take the whole machine's memory or hang. And
nothing larger than a limit is read whole: no Runefile, model, .rune or input needs a gigabyte."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

LIMIT = 1 << 30


def check_readable(path: Path | str, limit: int = LIMIT) -> None:
    """Raises OSError (with a strerror that says why) unless `path` is a regular file of at most
    `limit` bytes."""
    status = os.stat(path)
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "it is not a regular file (a device, a pipe or a socket)", str(path))
    if status.st_size > limit:
        raise OSError(errno.EFBIG, f"it is larger than {limit >> 20:,} MB", str(path))


def read_file(path: Path | str, limit: int = LIMIT) -> bytes:
    check_readable(path, limit)
    return Path(path).read_bytes()
