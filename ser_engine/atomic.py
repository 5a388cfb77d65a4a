"""Atomic writes: a temporary sibling is written, flushed and renamed into place.

A crash, a kill or a full disk leaves either the old file or the new one, never half of one.
Temporary names carry the writer's process id (``.<name>.<pid>.<random>.tmp``), so the next
write can tell a dead writer's leftovers from a live writer's work and remove only the former
(:func:`remove_stale_temporaries`). A folder replaced by :func:`atomic_directory` is moved
aside for an instant; if a kill lands in that instant, :func:`recover_directory` puts it back.

Permissions, decided once here: what SER Studio keeps for itself (reviews, the active-model
pointer, caches, bundles) is written readable by the user only (0600, the mode of
the temporary file), because it is clinical data in the user's own folders. What the user
*saves for others to open* (File ▸ Export…, :mod:`ser_engine.exports`) is written with
:data:`SHARED`: the permissions any program saving a document gets, 0666 less the user's
umask (0644 on most systems), the same for every export format.
"""

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

#: ``mode=`` for files written for the user to share (exports): as ``open()`` would create them.
SHARED = "shared"
#: ``mode=`` for the app's own files (the default): the user alone may read them.
PRIVATE = 0o600

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")
_BACKUP = re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$")


def _fsync_dir(path):
    # Makes the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_prefix(path):
    return f".{path.name}.{os.getpid()}."


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove(p):
    with contextlib.suppress(OSError):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def remove_stale_temporaries(path):
    """Delete the temporary files and folders of writes to ``path`` whose writer is dead
    (killed mid-write). A live writer's temporaries, this process's included, are kept.

    Returns
    -------
    removed : list of Path
    """
    path = Path(path)
    removed = []
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            m = _TEMP.match(entry.name)
            if m and m["name"] == path.name and not _alive(int(m["pid"])):
                _remove(entry)
                removed.append(entry)
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted write of %s", len(removed), path)
    return removed


def recover_directory(path):
    """Finish or undo a folder replacement interrupted by a kill.

    :func:`atomic_directory` moves the old folder to ``.<name>.old-<pid>`` and the new one into
    place. Killed between the two renames, ``path`` is missing: the backup is renamed back.
    Killed after them, the backup is just deleted. Dead writers' temporaries are removed too.

    Returns
    -------
    restored : bool
        True when ``path`` was missing and has been put back.
    """
    path = Path(path)
    restored = False
    try:
        backups = sorted((e for e in path.parent.iterdir() if (m := _BACKUP.match(e.name))
                          and m["name"] == path.name and not _alive(int(m["pid"]))),
                         key=lambda e: e.stat().st_mtime, reverse=True)
    except OSError:
        backups = []
    for backup in backups:
        if not path.exists():
            os.replace(backup, path)
            _fsync_dir(path.parent)
            logger.warning("%s was being replaced when the writer stopped; the previous version is back", path)
            restored = True
        else:
            _remove(backup)
    remove_stale_temporaries(path)
    return restored


def current_umask():
    """The process's umask, read without changing it (``os.umask`` must set one to read it,
    which for an instant would loosen the files other threads create)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def file_mode(mode):
    """The permission bits a write with ``mode=`` gives: :data:`PRIVATE`, :data:`SHARED`
    (0666 less the umask) or an explicit number."""
    if mode == SHARED:
        return 0o666 & ~current_umask()
    return int(mode)


def atomic_write_bytes(path, data, *, mode=PRIVATE):
    """Write ``data`` to ``path`` atomically (temp file in the same folder + rename).

    ``mode``: :data:`PRIVATE` (0600, the app's own files), :data:`SHARED` (exports: 0666 less
    the umask) or explicit permission bits. See the module docstring for why.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    bits = file_mode(mode)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        if bits != PRIVATE:
            os.fchmod(fd, bits)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path, text, *, mode=PRIVATE):
    """Write UTF-8 ``text`` to ``path`` atomically (``mode``: see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` whole.

    On an exception the temporary folder is removed and ``path`` is untouched. An
    existing ``path`` is moved aside first and deleted only after the new one is in place,
    so at every instant one complete folder exists under ``path`` or its backup name
    (from which :func:`recover_directory` restores it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = None
    if path.exists():
        backup = path.with_name(f".{path.name}.old-{os.getpid()}")
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(path, backup)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
