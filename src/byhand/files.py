"""Reading and writing the CLI's files safely: regular files only, reads bounded, writes whole.

    read_bytes(path, limit)   the bytes of a regular file of at most `limit` bytes
    atomic_write(path, data)  a temporary file beside `path`, renamed over it: all or nothing

A read opens the path first and then looks at what it opened (so a swap in between changes
nothing), refuses anything but a regular file — a device such as /dev/zero (its size says 0),
a FIFO (a read would wait forever), a directory — and reads at most `limit` + 1 bytes, so a
file that grows while it is read is refused too. A write refuses to replace anything but a
regular file or a missing one: `--out /dev/null` or a FIFO is refused with a sentence, never
replaced by a plain file; a symbolic link is followed and its target replaced, as an editor
would.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from byhand.errors import ByhandError


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The contents of the regular file at `path`, refused past `limit` bytes.

    Opened without blocking (a FIFO would otherwise wait for a writer), checked with fstat,
    then read to at most limit + 1 bytes. Errors are ByhandError sentences naming the path.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ByhandError(f"cannot read {what} {path}: no such file") from None
    except OSError as err:
        raise ByhandError(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ByhandError(
                f"cannot read {what} {path}: it is {_kind(info.st_mode)}, not a regular file"
            )
        if info.st_size > limit:
            raise ByhandError(
                f"{path}: {info.st_size} bytes is more than a {what} may hold ({limit} at most)"
            )
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise ByhandError(f"{path}: more than a {what} may hold ({limit} bytes at most)")
        return b"".join(chunks)
    except OSError as err:
        raise ByhandError(f"cannot read {what} {path}: {err.strerror or err}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, limit: int, what: str = "file") -> str:
    """read_bytes as UTF-8 text (a BOM is dropped); a file that is not UTF-8 is a clear error."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ByhandError(f"cannot read {what} {path}: it is not UTF-8 text") from None


def check_writable(path: str | os.PathLike, what: str = "file") -> Path:
    """Refuse, before any work, to write over something that is not a regular file; the path
    with symbolic links followed (the file that will be replaced)."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as err:
        raise ByhandError(f"cannot write {what} {path}: {err.strerror or err}") from None
    if not stat.S_ISREG(mode):
        raise ByhandError(
            f"cannot write {what} {path}: it is {_kind(mode)}; byhand writes only regular files"
        )
    return target


def _new_file_mode(path: Path) -> int:
    """The permissions a plain open() would give: the old file's, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    try:  # Linux says the umask without changing it (os.umask would, for every thread)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, data: bytes, what: str = "file") -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    Only a regular file (or none) is replaced; a symbolic link's target is. The file gets the
    permissions an ordinary write would give it (mkstemp's are owner-only). OSError propagates.
    """
    target = check_writable(path, what)
    mode = _new_file_mode(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
