"""Which model bundle is active: the user's choice in the user-data folder, else the shipped one.

The choice is a small JSON pointer written atomically. A chosen bundle that no longer
loads (deleted, corrupted, tampered) is never used silently: the caller gets the
shipped bundle and a warning saying why.
"""

import json
import logging
from pathlib import Path

from .atomic import atomic_write_text
from .bundle import load_bundle
from .errors import ModelLoadError
from .paths import shipped_model_dir, user_data_dir

logger = logging.getLogger(__name__)


def active_pointer_path():
    return user_data_dir() / "active_model.json"


def user_models_dir():
    return user_data_dir() / "models"


def set_active(path):
    """Make the bundle at ``path`` the active model (verified first)."""
    bundle = load_bundle(path)
    atomic_write_text(active_pointer_path(), json.dumps({"path": str(Path(path).resolve())}) + "\n")
    return bundle


def active_choice():
    """The folder the user chose as active (``set_active``), or None for the shipped model.

    Only the pointer is read: whether that bundle still loads is :func:`resolve_bundle`'s job.
    """
    pointer = active_pointer_path()
    try:
        return Path(json.loads(pointer.read_text(encoding="utf-8"))["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def reset_active():
    """Go back to the shipped model."""
    p = active_pointer_path()
    if p.exists():
        p.unlink()


def resolve_bundle(path=None):
    """The bundle to use and a warning (or None).

    Parameters
    ----------
    path : str or Path or None
        An explicit bundle (``--model``): loaded or refused, never replaced.

    Returns
    -------
    (ModelBundle, str or None)
    """
    if path is not None:
        return load_bundle(path), None
    pointer = active_pointer_path()
    warning = None
    if pointer.exists():
        try:
            chosen = json.loads(pointer.read_text(encoding="utf-8"))["path"]
            return load_bundle(chosen), None
        except (ModelLoadError, OSError, ValueError, KeyError, TypeError) as exc:
            warning = f"The chosen model could not be used ({exc}); using the shipped model instead."
            logger.warning(warning)
    try:
        return load_bundle(shipped_model_dir()), warning
    except ModelLoadError as exc:
        raise ModelLoadError(f"the shipped model is damaged: {exc}. Reinstall SER Studio.") from None
