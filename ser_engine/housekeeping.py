"""What SER Studio keeps on disk, how big it is, and clearing the cache.

The cache holds only what can be recomputed: the feature matrices of training files
(``features/``, keyed by each file's SHA-256) and, in the installed app, Keras's configuration
(``keras/``). Clearing it never touches models, reviews, the active-model choice, settings or
logs; the next training run simply extracts features again.
See docs/PRIVACY.md for what each folder holds.
"""

import contextlib
import dataclasses
import logging
import os
import shutil
from pathlib import Path

from .paths import user_cache_dir, user_data_dir, user_log_dir

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Folder:
    """One of the user folders: what it is for, where it is and what it holds now."""

    name: str
    purpose: str
    path: Path
    size: int    # bytes
    files: int


def folder_size(path):
    """``(bytes, files)`` under ``path`` (0, 0 when missing); links are not followed."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
                files += 1
    return total, files


def storage():
    """The three user folders, with their current size.

    Returns
    -------
    list of Folder: data (models, active-model choice), cache (recomputable), logs.
    """
    out = []
    for name, purpose, path in (
            ("data", "models you trained and which one is active", user_data_dir()),
            ("cache", "features of training files and library caches; safe to clear", user_cache_dir()),
            ("logs", "the application log (errors and events, no audio or results)", user_log_dir())):
        size, files = folder_size(path)
        out.append(Folder(name, purpose, Path(path), size, files))
    return out


def cache_size():
    """Bytes in the cache folder."""
    return folder_size(user_cache_dir())[0]


def clear_cache():
    """Delete everything in the cache folder (the folder itself stays).

    Safe at any time the app is not training: every entry is recomputed when needed. Entries
    that cannot be removed (in use, permissions) are skipped and reported, never fatal.

    Returns
    -------
    freed : int
        Bytes removed.
    failed : list of str
        ``"<path>: <reason>"`` for each entry left in place.
    """
    root = user_cache_dir()
    if not root.is_dir():
        return 0, []
    before = folder_size(root)[0]
    failed = []

    def onerror(_func, path, exc_info):
        failed.append(f"{path}: {exc_info[1].strerror if hasattr(exc_info[1], 'strerror') else exc_info[1]}")

    for entry in sorted(root.iterdir()):
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, onerror=onerror)
            else:
                entry.unlink()  # a link is removed, never followed
        except OSError as exc:
            failed.append(f"{entry}: {exc.strerror or exc}")
    freed = before - folder_size(root)[0]
    logger.info("cleared the cache: %d bytes freed%s", freed, f", {len(failed)} entries kept" if failed else "")
    return freed, failed


def format_size(n):
    """``1.2 MB``-style text for a byte count (decimal units, as file managers show)."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
