"""Write a file so that it is either fully the old one or fully the new one.

A crash, a full disk or a killed process half way through a save must never
leave a truncated weights file behind. So we write the bytes to a temporary
file in the same folder (same file system, so the rename is atomic), flush and
fsync it, and only then ``os.replace`` it over the target. On any error the
temporary file is removed and the error re-raised; the old file is untouched.

The caller turns ``OSError`` into a message for a person.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the contents of ``path`` with ``data``, all or nothing."""
    # Write through a symbolic link rather than replacing the link itself.
    target = Path(os.path.realpath(path))
    check_replaceable(target)
    mode = file_mode(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def check_replaceable(target: Path) -> None:
    """OSError unless ``target`` is absent or a regular file its owner lets us write.

    A rename needs only the folder's permission: without this a read-only file
    would be replaced, and a named pipe or a device turned into a plain file.
    """
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "it is not a regular file", str(target))
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is read-only", str(target))


def file_mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 & ~umask.

    mkstemp creates files as 0o600, which would silently make a shared file private.
    """
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort, not possible on every platform."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
