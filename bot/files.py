"""Files that hold personal data are readable by this service's user alone: 0600, folders 0700.

The command line also sets the umask to 0077 when it starts (`PRIVATE_UMASK`), so whatever a library
writes for it is private too; the functions here give the same modes to any caller, whatever its umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Make `path` and any missing parents as folders of mode 0700; existing folders stay as they are."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(folder, FOLDER_MODE)  # an odd umask may have taken bits from mkdir's mode
    return path


def tighten(path: Path) -> bool:
    """Take group and other permissions off a file this user owns; whether anything was changed."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or not info.st_mode & 0o077:
        return False
    os.chmod(path, stat.S_IMODE(info.st_mode) & FILE_MODE)
    return True


def private_file(path: Path) -> None:
    """An empty file of mode 0600 when none is there yet; an existing one is tightened (`tighten`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, created with mode 0600; a file already there is made 0600 before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:  # not for /dev/stdout and the like
            os.fchmod(fd, FILE_MODE)
        out.write(data)
