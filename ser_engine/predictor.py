"""Predictor: files or arrays in, typed results out, through the one data path.

``load_audio`` -> ``compute_features`` -> normalise (global or speaker baseline) ->
windows -> model -> per-window probabilities -> speech-weighted file-level logits ->
calibrated probabilities and merged segments.

The model runs through LiteRT when the bundle has ``model.tflite`` (else Keras), and the
features use the bundle's stored filter banks when it has ``filters.npz`` (else librosa's):
a bundle with both labels files without importing TensorFlow or librosa.
"""

import logging
from pathlib import Path

import numpy as np

from .audio import load_audio
from .errors import AudioLoadError, SerError
from .features import compute_features, frame_energy
from .inference import aggregate, prepare_windows, run_model, softmax
from .models import resolve_bundle
from .normalise import compute_stats
from .results import NO_SPEECH, Failure, Result, Segment, probs_dict

logger = logging.getLogger(__name__)

#: Windows per model call. Every call runs a full (padded) batch, so a short file pays for the
#: whole batch: LiteRT at 16 labels a 4 s file in ~30 ms (~95 ms at 64) and a 10-minute
#: recording ~10 % slower than at 64; Keras keeps 64 (BENCHMARKS.md).
BATCH_SIZE = {"litert": 16, "keras": 64}


class Predictor:
    """Labels recordings with one model bundle. Not thread-safe: use from one worker."""

    def __init__(self, bundle, *, batch_size=None):
        self.bundle = bundle
        self._batch_size = batch_size
        self.config = bundle.feature_config
        self.window = bundle.window
        self.labels = bundle.labels
        self._global = bundle.global_stats
        self._banks = bundle.filter_banks()
        self._model = None

    @classmethod
    def from_path(cls, path=None):
        """The predictor of ``path``, or of the active bundle; returns ``(predictor, warning)``."""
        bundle, warning = resolve_bundle(path)
        return cls(bundle), warning

    @property
    def model(self):
        """LiteRT's interpreter for the bundle's ``model.tflite``, else the Keras model."""
        if self._model is None:
            self._model = self.bundle.load_inference_model()
        return self._model

    @property
    def runtime(self):
        """``"litert"`` or ``"keras"`` (loads the model)."""
        from .litert import LiteRTModel

        return "litert" if isinstance(self.model, LiteRTModel) else "keras"

    @property
    def batch_size(self):
        """Windows per model call: as given, else the runtime's default (:data:`BATCH_SIZE`)."""
        return self._batch_size or BATCH_SIZE[self.runtime]

    def warm_up(self):
        """Run the model once, then the whole labelling path on one second of faint noise, so
        the first real file is not the slow one: it would otherwise pay the model's first call
        and the imports made on first use (scipy.fft: 0.1-0.2 s here)."""
        run_model(self.model, np.zeros((1, self.window.length, self.config.n_features), np.float32),
                  batch_size=self.batch_size)
        faint = np.random.default_rng(0).standard_normal(self.config.sample_rate).astype(np.float32) * 1e-3
        self.predict_array(faint, path="<warm-up>")

    @property
    def banks(self):
        """The bundle's ``(mel, chroma)`` filter banks, or None (features then use librosa's)."""
        return self._banks

    @property
    def global_stats(self):
        """The bundle's global feature statistics (normalisation without a speaker baseline)."""
        return self._global

    # -- public API -------------------------------------------------------------------

    def analyse_recording(self, path, **kwargs):
        """A long recording as a :class:`~ser_engine.results.Timeline` of segments, streamed
        block by block; see :func:`ser_engine.segments.analyse_recording` for the arguments."""
        from .segments import analyse_recording

        return analyse_recording(self, path, **kwargs)

    def features(self, y):
        """Raw features of a 16 kHz mono signal, with this bundle's settings."""
        return compute_features(y, config=self.config, banks=self._banks)

    def predict_array(self, y, *, path="<array>", speaker_baseline=False, stats=None):
        """Label a mono float32 signal at the bundle's sample rate.

        Parameters
        ----------
        speaker_baseline : bool
            Normalise by the recording's own statistics (a long recording is its own baseline).
        stats : FeatureStats or None
            Explicit speaker statistics (from :meth:`predict_group`); overrides the above.
        """
        X = self.features(y)
        return self._predict_features(X, path=str(path), duration=len(y) / self.config.sample_rate,
                                      speaker_baseline=speaker_baseline, stats=stats)

    def predict_file(self, path, *, speaker_baseline=False):
        """Label one file. Raises :class:`~ser_engine.errors.AudioLoadError` for a bad file."""
        y = load_audio(path, sr=self.config.sample_rate)
        return self.predict_array(y, path=path, speaker_baseline=speaker_baseline)

    def predict_group(self, paths, *, progress=None):
        """Label recordings of one speaker, normalised by their shared baseline.

        Files that cannot be read become :class:`Failure` entries; the rest go on.

        Returns
        -------
        list of Result or Failure, in the order of ``paths``.
        """
        loaded = {}
        out = {}
        for p in paths:
            try:
                y = load_audio(p, sr=self.config.sample_rate)
                loaded[p] = (self.features(y), len(y) / self.config.sample_rate)
            except SerError as exc:
                out[p] = Failure(str(p), _reason(exc))
        if loaded:
            stats = compute_stats([X for X, _ in loaded.values()], config=self.config)
            for i, (p, (X, duration)) in enumerate(loaded.items()):
                out[p] = self._predict_features(X, path=str(p), duration=duration, stats=stats)
                if progress:
                    progress(i + 1, len(loaded))
        return [out[p] for p in paths]

    def predict_many(self, paths, *, speaker_baseline=False):
        """Label files one by one; a bad file becomes a :class:`Failure` and the rest go on.

        With ``speaker_baseline`` the files of each folder form one speaker group.
        """
        paths = [Path(p) for p in paths]
        if speaker_baseline:
            groups = {}
            for p in paths:
                groups.setdefault(p.parent, []).append(p)
            results = {}
            for group in groups.values():
                results.update(zip(group, self.predict_group(group)))
            yield from (results[p] for p in paths)
            return
        for p in paths:
            try:
                yield self.predict_file(p)
            except SerError as exc:
                yield Failure(str(p), _reason(exc))

    # -- internals --------------------------------------------------------------------

    def _predict_features(self, X, *, path, duration, speaker_baseline=False, stats=None):
        mode = "speaker" if (stats is not None or speaker_baseline) else "global"
        if not self._has_speech(X):
            return self._no_speech(path, duration, mode)
        if stats is None:
            stats = compute_stats([X], config=self.config) if speaker_baseline else self._global
        prep = prepare_windows(X, stats, config=self.config, window=self.window)
        window_probs = run_model(self.model, prep.windows, batch_size=self.batch_size)
        temperature = self.bundle.temperature(mode)
        probs = softmax(aggregate(window_probs, prep.weights), temperature)
        k = int(np.argmax(probs))
        segments = self._segments(window_probs, prep, temperature, duration)
        confidence = float(probs[k])
        return Result(path=path, label=self.labels[k], confidence=confidence,
                      probabilities=probs_dict(self.labels, probs), segments=segments,
                      model_id=self.bundle.model_id, model_version=self.bundle.version,
                      normalisation=mode, duration=duration,
                      uncertain=confidence < self.bundle.uncertain_below)

    def _has_speech(self, X):
        """The voice-activity rule of long recordings (:func:`ser_engine.segments.vad_mask`), so
        silence, hum or steady noise is "no speech" here too, not a confident emotion."""
        from .segments import vad_mask

        energy = frame_energy(X, config=self.config)
        return bool(vad_mask(energy[np.isfinite(energy)], config=self.config).any())

    def _no_speech(self, path, duration, mode):
        return Result(path=path, label=NO_SPEECH, confidence=1.0, probabilities={},
                      segments=[Segment(0.0, duration, NO_SPEECH, None, {})],
                      model_id=self.bundle.model_id, model_version=self.bundle.version,
                      normalisation=mode, duration=duration)

    def _segments(self, window_probs, prep, temperature, duration):
        """One stretch per window (the part nearest its centre), equal neighbours merged."""
        rate = self.config.frame_rate
        L = self.window.length
        lo, hi = prep.span
        centres = prep.starts + L / 2
        bounds = [lo] + [int((a + b) / 2) for a, b in zip(centres[:-1], centres[1:])] + [hi]
        calibrated = softmax(np.log(np.clip(window_probs, 1e-7, 1.0)), temperature)
        segments = []
        for i, p in enumerate(calibrated):
            start, end = min(bounds[i] / rate, duration), min(bounds[i + 1] / rate, duration)
            label = self.labels[int(np.argmax(p))]
            if segments and segments[-1][2] == label:
                s0, _, _, acc = segments[-1]
                segments[-1] = (s0, end, label, acc + [(end - start, p)])
            else:
                segments.append((start, end, label, [(end - start, p)]))
        out = []
        for start, end, label, parts in segments:
            w = np.array([max(d, 1e-6) for d, _ in parts])
            p = (np.stack([q for _, q in parts]) * w[:, None]).sum(0) / w.sum()
            out.append(Segment(start, end, label, float(p.max()), probs_dict(self.labels, p)))
        return out


def _reason(exc):
    # AudioLoadError carries the bare reason; the path is reported beside it.
    return exc.reason if isinstance(exc, AudioLoadError) else str(exc)
