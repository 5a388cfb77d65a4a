"""Which model bundle is active: the user's choice in the user-data folder, else the shipped one.

The choice is a small JSON pointer written atomically. A chosen bundle that no longer
loads (deleted, corrupted, tampered) is never used silently: the caller gets the
shipped bundle and a warning saying why.

:func:`list_models` lists the shipped model and every model trained into the user's models
folder with its speaker-independent figures, so a model can be chosen again after a revert or
a restart, and its report found.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from .atomic import atomic_write_text
from .bundle import MANIFEST, load_bundle
from .errors import ModelLoadError
from .paths import shipped_model_dir, user_data_dir

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StoredModel:
    """A model bundle on disk and its figures (read from its manifest, not verified: listing is
    cheap; :func:`set_active` verifies before a model is used).

    Attributes
    ----------
    model_id : str
    bundle_dir : Path
    run_dir : Path or None
        The training run's folder (``report.json`` and figures), None for the shipped model.
    created : str
        ISO time the bundle was written ("" when unknown).
    accuracy_alone, accuracy_baseline : float or None
        Speaker-independent accuracy (mean over folds) of each file alone and with the speaker
        baseline; None for a run without evaluation (a quick check).
    shipped, active : bool
    """

    model_id: str
    bundle_dir: Path
    run_dir: Path | None
    created: str
    accuracy_alone: float | None
    accuracy_baseline: float | None
    shipped: bool = False
    active: bool = False

    @property
    def report_path(self) -> Path | None:
        """The run's ``report.json``, if it is there."""
        if self.run_dir is None:
            return None
        path = self.run_dir / "report.json"
        return path if path.is_file() else None

    def figures_text(self) -> str:
        """"61.3% alone, 67.1% with speaker baseline", or why there are no figures."""
        if self.accuracy_alone is None:
            return "no evaluation (quick check)"
        text = f"{self.accuracy_alone:.1%} alone"
        if self.accuracy_baseline is not None:
            text += f", {self.accuracy_baseline:.1%} with speaker baseline"
        return text


def _accuracy(modes: dict, mode: str) -> float | None:
    try:
        return float(modes[mode]["accuracy"]["mean"])
    except (KeyError, TypeError, ValueError):
        return None


def stored_model(bundle_dir, *, shipped: bool = False, active: Path | None = None) -> StoredModel | None:
    """The :class:`StoredModel` of a bundle folder, or None when its manifest cannot be read."""
    bundle_dir = Path(bundle_dir)
    try:
        manifest = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
        model_id = str(manifest["model_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    modes = (manifest.get("evaluation") or {}).get("modes") or {}
    run_dir = None if shipped else bundle_dir.parent
    is_active = active is not None and _same(bundle_dir, active)
    return StoredModel(model_id, bundle_dir, run_dir, str(manifest.get("created", "")), _accuracy(modes, "global"),
                     _accuracy(modes, "speaker"), shipped, is_active)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def list_models(root=None) -> list[StoredModel]:
    """The shipped model, then the models trained into ``root`` (the user's models folder),
    newest first, and the active model when it lies elsewhere; ``active`` marks the one the app
    uses."""
    chosen = active_choice()
    shipped = stored_model(shipped_model_dir(), shipped=True)
    out = []
    if shipped is not None:
        out.append(dataclasses.replace(shipped, active=chosen is None))
    folder = Path(root) if root is not None else user_models_dir()
    try:
        runs = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    except OSError:
        runs = []
    for run in runs:
        info = stored_model(run / "model", active=chosen)
        if info is not None:
            out.append(info)
    if chosen is not None and not any(m.active for m in out):  # chosen from elsewhere: listed too
        info = stored_model(chosen, active=chosen)
        if info is not None:
            out.append(info)
    return out


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


def bundle_folder(path):
    """The bundle a path names: itself, or the ``model`` folder inside a training run's folder
    (what ``ser-train --out DIR`` wrote), so either can be given as ``--model``."""
    path = Path(path)
    inner = path / "model"
    if path.is_dir() and not (path / MANIFEST).is_file() and (inner / MANIFEST).is_file():
        return inner
    return path


def resolve_bundle(path=None):
    """The bundle to use and a warning (or None).

    Parameters
    ----------
    path : str or Path or None
        An explicit bundle (``--model``; a training run's folder stands for the bundle inside it):
        loaded or refused, never replaced.

    Returns
    -------
    (ModelBundle, str or None)
    """
    if path is not None:
        return load_bundle(bundle_folder(path)), None
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
