"""The model bundle: ``model.keras`` + ``manifest.json`` + ``card.md`` in one folder (or zip).

Two optional files let the app label without TensorFlow or librosa: ``model.tflite`` (the
same network converted for LiteRT, see :mod:`ser_engine.litert`) and ``filters.npz`` (the
mel and chroma filter banks of the feature settings). ``model.keras`` stays the source of
truth; without the two files the bundle works through Keras and librosa as before.

The manifest holds everything needed to use the model correctly: the label list, the
feature and window settings, the normalisation statistics, the calibration
temperatures, what it was trained on and how it was evaluated, and the SHA-256 of every
other file. Loading checks the format version and every hash and refuses a mismatch.
Bundles are written into a temporary folder and renamed into place.
"""

import atexit
import dataclasses
import hashlib
import io
import json
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_directory, recover_directory
from .errors import ModelLoadError
from .features import FeatureConfig, check_banks, filter_banks
from .frontend import FrontEndConfig
from .inference import WindowConfig
from .normalise import FeatureStats
from .results import UNCERTAIN_BELOW

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"
CARD_FILE = "card.md"
TFLITE_FILE = "model.tflite"
FILTERS_FILE = "filters.npz"
_REQUIRED = ("format_version", "model_id", "version", "labels", "feature_config", "window",
             "normalisation", "calibration", "files")


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass

class ModelBundle:
    """A verified bundle. ``files`` maps each file name to its bytes-on-disk path."""

    source: Path
    manifest: dict
    card: str
    files: dict

    @property
    def model_id(self):
        return self.manifest["model_id"]

    @property
    def version(self):
        return self.manifest["version"]

    @property
    def labels(self):
        return tuple(self.manifest["labels"])

    @property
    def feature_config(self):
        return FeatureConfig.from_dict(self.manifest["feature_config"])

    @property
    def window(self):
        return WindowConfig.from_dict(self.manifest["window"])

    @property
    def global_stats(self):
        return FeatureStats.from_dict(self.manifest["normalisation"]["global"])

    @property
    def front_end(self):
        """What the model reads (:mod:`ser_engine.frontend`); classic for bundles before it existed."""
        return FrontEndConfig.from_dict(self.manifest.get("front_end"))

    @property
    def encoder_spec(self):
        """The speech encoder the model was trained with (:class:`~ser_engine.encoder.EncoderSpec`),
        or None for a classic front end."""
        from .encoder import EncoderSpec

        spec = self.manifest.get("encoder")
        return EncoderSpec.from_dict(spec) if spec else None

    @property
    def whisper_bank(self):
        """Whisper's stored mel filter bank (``filters.npz``), or None."""
        if FILTERS_FILE not in self.files:
            return None
        with np.load(self.files[FILTERS_FILE], allow_pickle=False) as data:
            return np.asarray(data["whisper_mel"], np.float32) if "whisper_mel" in data else None

    def temperature(self, mode):
        return float(self.manifest["calibration"]["temperature"].get(mode, 1.0))

    @property
    def training_mix(self):
        """Each label's share of the training data, in label order (what a recording's own mix
        is measured against: :meth:`ser_engine.labelling.Labeller.adapt_mix`), or None when the
        manifest does not count them."""
        return training_mix(self.manifest, self.labels)

    @property
    def uncertain_below(self):
        """Calibrated confidence under which a label is shown as uncertain."""
        return float(self.manifest["calibration"].get("uncertain_below", UNCERTAIN_BELOW))

    def load_keras_model(self):
        """The Keras model (imports Keras: seconds). Loaded with ``safe_mode=True``."""
        import keras

        try:
            model = keras.saving.load_model(self.files[MODEL_FILE], compile=False, safe_mode=True)
        except Exception as exc:
            raise ModelLoadError(f"{self.source}: model.keras could not be loaded ({exc})") from None
        n_out = model.output_shape[-1]
        if n_out != len(self.labels):
            raise ModelLoadError(f"{self.source}: the model has {n_out} outputs but the manifest lists "
                                 f"{len(self.labels)} labels")
        return model

    def load_inference_model(self, *, threads=None):
        """The model to label with: LiteRT when the bundle has ``model.tflite`` and the
        runtime loads (no TensorFlow import; ``threads``: its threads, None for its default),
        else Keras, with a warning in the log."""
        if TFLITE_FILE in self.files:
            try:
                from .litert import LiteRTModel

                model = LiteRTModel(self.files[TFLITE_FILE], num_threads=threads)
            except Exception as exc:  # missing or broken runtime: Keras still gives the same answers
                logger.warning("%s: LiteRT could not load model.tflite (%s: %s); using Keras instead",
                               self.source, type(exc).__name__, exc)
            else:
                if model.output_shape[-1] != len(self.labels):
                    raise ModelLoadError(f"{self.source}: model.tflite has {model.output_shape[-1]} outputs but "
                                         f"the manifest lists {len(self.labels)} labels")
                return model
        return self.load_keras_model()

    def filter_banks(self):
        """The stored ``(mel, chroma)`` filter banks, or None (then librosa computes them)."""
        if FILTERS_FILE not in self.files:
            return None
        try:
            with np.load(self.files[FILTERS_FILE], allow_pickle=False) as data:
                mel, chroma = data["mel"], data["chroma"]
        except (OSError, KeyError, ValueError) as exc:
            raise ModelLoadError(f"{self.source}: {FILTERS_FILE} could not be read ({exc})") from None
        try:
            return check_banks((mel, chroma), config=self.feature_config)
        except ValueError:
            raise ModelLoadError(f"{self.source}: {FILTERS_FILE} does not fit the feature settings") from None


def load_bundle(path):
    """Open and verify a bundle folder or ``.zip``.

    Raises
    ------
    ModelLoadError
        Missing files, unreadable or incomplete manifest, unsupported format version or a
        file whose SHA-256 differs from the manifest (tampered or corrupted).
    """
    path = Path(path)
    if not path.exists() and not recover_directory(path):  # killed while being replaced?
        raise ModelLoadError(f"{path}: model bundle not found")
    if path.is_file() and zipfile.is_zipfile(path):
        return _load_zip(path)
    if not path.is_dir():
        raise ModelLoadError(f"{path}: not a model bundle (expected a folder or a .zip)")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelLoadError(f"{path}: no {MANIFEST}; this folder is not a model bundle")
    manifest = _parse_manifest(path, manifest_path.read_bytes())
    files = {}
    for name, digest in manifest["files"].items():
        f = path / name
        if not f.is_file():
            raise ModelLoadError(f"{path}: {name} is missing from the bundle")
        if sha256_bytes(f.read_bytes()) != digest:
            raise ModelLoadError(f"{path}: {name} does not match its checksum (modified or corrupted); "
                                 "reinstall or retrain the model")
        files[name] = str(f)
    return ModelBundle(path, manifest, _read_card(files), files)


def _load_zip(path):
    # Extracted to a private temporary folder that lives as long as the process (LiteRT and
    # Keras read the files by path); removed at exit, and at once if the zip is refused.
    tmp = Path(tempfile.mkdtemp(prefix="ser-bundle-"))
    try:
        with zipfile.ZipFile(path) as zf:
            names = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
            if MANIFEST not in names:
                raise ModelLoadError(f"{path}: no {MANIFEST} in the zip; not a model bundle")
            for short, full in names.items():
                (tmp / short).write_bytes(zf.read(full))
        bundle = load_bundle(tmp)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError(f"{path}: damaged zip ({exc})") from None
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError(f"{path}: the zip could not be extracted ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    bundle.source = path
    return bundle


def _parse_manifest(where, data):
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{where}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ModelLoadError(f"{where}: {MANIFEST} is not a JSON object")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise ModelLoadError(f"{where}: {MANIFEST} lacks {', '.join(missing)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise ModelLoadError(f"{where}: bundle format {manifest['format_version']} is not supported by this "
                             f"version of SER Studio (it reads format {FORMAT_VERSION})")
    for name in (MODEL_FILE, CARD_FILE):
        if name not in manifest["files"]:
            raise ModelLoadError(f"{where}: {MANIFEST} does not list {name}")
    try:
        FeatureConfig.from_dict(manifest["feature_config"])
        WindowConfig.from_dict(manifest["window"])
        FeatureStats.from_dict(manifest["normalisation"]["global"])
        front_end = FrontEndConfig.from_dict(manifest.get("front_end"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{where}: {MANIFEST} has invalid settings ({exc})") from None
    if front_end.uses_encoder and not manifest.get("encoder", {}).get("sha256"):
        raise ModelLoadError(f"{where}: the model reads a speech encoder's frames but {MANIFEST} does not "
                             "name the encoder's files and their sha256")
    return manifest


def _read_card(files):
    return Path(files[CARD_FILE]).read_text(encoding="utf-8")


def write_bundle(dest, *, model, manifest, card, extra_files=None, runtime_files=True, litert=True):
    """Write a bundle folder atomically.

    Parameters
    ----------
    dest : Path
        The bundle folder; an existing one is replaced only once the new one is complete.
    model : keras.Model
    manifest : dict
        Everything but ``format_version`` and ``files``, which are filled in here.
    card : str
        The model card (Markdown).
    extra_files : dict name -> bytes, optional
        More files to include and hash (e.g. report figures).
    runtime_files : bool
        Also write ``model.tflite`` and ``filters.npz`` (see :func:`runtime_file_bytes`).
    litert : bool
        False: ``filters.npz`` only, no ``model.tflite``; the app then runs ``model.keras``
        through Keras (the same probabilities, a slower start). The conversion is most of the
        writing time (~20 s for a tiny model); :func:`add_runtime_files` adds it later.

    Returns
    -------
    dest : Path
    """
    dest = Path(dest)
    with atomic_directory(dest) as tmp:
        copy = _inference_copy(model)
        copy.save(tmp / MODEL_FILE)
        if runtime_files:
            fe = FrontEndConfig.from_dict(manifest.get("front_end"))
            for name, data in runtime_file_bytes(copy, FeatureConfig.from_dict(manifest["feature_config"]),
                                                 fe, litert=litert).items():
                (tmp / name).write_bytes(data)
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        _write_manifest(tmp, manifest)
    logger.info("wrote model bundle %s (%s)", dest, manifest.get("model_id"))
    return dest


def _write_manifest(folder, manifest):
    # format_version and files are always this code's own, never carried over
    manifest = {k: v for k, v in manifest.items() if k not in ("format_version", "files")}
    files = {p.name: sha256_bytes(p.read_bytes()) for p in sorted(folder.iterdir()) if p.name != MANIFEST}
    full = {"format_version": FORMAT_VERSION, **manifest, "files": files}
    (folder / MANIFEST).write_text(json.dumps(full, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    _parse_manifest(folder, (folder / MANIFEST).read_bytes())  # never write what we could not read back


def runtime_file_bytes(model, config, front_end=FrontEndConfig(), *, litert=True):
    """``filters.npz`` (the mel and chroma banks, and Whisper's mel bank for an encoder front
    end) and, with ``litert`` and when the conversion succeeds, ``model.tflite`` for a Keras model.

    A model that does not convert still gets a bundle (Keras runs it); the log says why.

    Returns
    -------
    dict name -> bytes
    """
    from .litert import convert_to_tflite

    mel, chroma = filter_banks(config=config)
    banks = {"mel": mel, "chroma": chroma}
    if front_end.uses_encoder:
        from .encoder import whisper_mel_bank

        banks["whisper_mel"] = whisper_mel_bank()
    buf = io.BytesIO()
    np.savez(buf, **banks)
    out = {FILTERS_FILE: buf.getvalue()}
    if not litert:
        return out
    try:
        out[TFLITE_FILE] = convert_to_tflite(model)
    except Exception as exc:
        logger.warning("the model could not be converted for LiteRT (%s: %s); the bundle will use Keras",
                       type(exc).__name__, exc)
    return out


def add_runtime_files(bundle_dir):
    """Add ``model.tflite`` and ``filters.npz`` to an existing bundle folder, from its
    ``model.keras``, without retraining; the manifest keeps everything but ``files``.
    The folder is replaced atomically."""
    bundle_dir = Path(bundle_dir)
    bundle = load_bundle(bundle_dir)
    new = runtime_file_bytes(bundle.load_keras_model(), bundle.feature_config, bundle.front_end)
    if TFLITE_FILE not in new:
        raise ModelLoadError(f"{bundle_dir}: model.keras could not be converted for LiteRT (see the log)")
    with atomic_directory(bundle_dir) as tmp:
        for name, path in bundle.files.items():
            if name not in new:
                shutil.copy2(path, tmp / name)
        for name, data in new.items():
            (tmp / name).write_bytes(data)
        _write_manifest(tmp, bundle.manifest)
    logger.info("added %s to %s", ", ".join(sorted(new)), bundle_dir)
    return bundle_dir


def rewrite_metadata(bundle_dir, *, manifest, card):
    """Replace a bundle folder's manifest and card, keeping its model files (atomically)."""
    bundle_dir = Path(bundle_dir)
    bundle = load_bundle(bundle_dir)
    with atomic_directory(bundle_dir) as tmp:
        for name, path in bundle.files.items():
            if name != CARD_FILE:
                shutil.copy2(path, tmp / name)
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        _write_manifest(tmp, manifest)
    return bundle_dir


def _inference_copy(model):
    """The same network and weights without optimizer state (a third of a trained
    model's file, and the only part inference needs)."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def training_mix(manifest, labels):
    """Each of ``labels``' share of the files a bundle was trained on (``training_data.per_emotion``),
    or None when that count is missing or does not name every label."""
    counts = (manifest.get("training_data") or {}).get("per_emotion") or {}
    if not counts or any(counts.get(lab, 0) <= 0 for lab in labels):
        return None
    total = float(sum(counts[lab] for lab in labels))
    return np.array([counts[lab] / total for lab in labels], np.float64)
