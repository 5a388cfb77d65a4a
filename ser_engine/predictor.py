"""Predictor: files or arrays in, typed results out, through the one data path.

``load_audio`` -> ``compute_features`` -> voice activity and speech regions -> normalise
(global or a speaker baseline) -> the one labelling core (:mod:`ser_engine.labelling`):
windows -> model -> segments and the recording's answer. A file is read block by block
(:func:`ser_engine.segments.analyse_recording`); an array in memory gives the same result.

The model runs through LiteRT when the bundle has ``model.tflite`` (else Keras), and the
features use the bundle's stored filter banks when it has ``filters.npz`` (else librosa's):
a bundle with both labels files without importing TensorFlow or librosa.
"""

import dataclasses
import logging
from pathlib import Path

import numpy as np

from .errors import AudioLoadError, SerError
from .features import compute_features
from .frontend import FrontEndConfig
from .inference import run_model
from .models import resolve_bundle
from .results import LONG_RECORDING_S, Failure

logger = logging.getLogger(__name__)

#: Windows per model call. Every call runs a full (padded) batch, so a short file pays for the
#: whole batch: LiteRT at 16 labels a 4 s file in ~30 ms (~95 ms at 64) and a 10-minute
#: recording ~10 % slower than at 64; Keras keeps 64 (BENCHMARKS.md).
BATCH_SIZE = {"litert": 16, "keras": 64}


@dataclasses.dataclass(frozen=True)
class Spread:
    """Where one recording's features and encoder states are computed when it is spread over a
    cluster (:attr:`Predictor.spreader`).

    Attributes
    ----------
    pool : object
        ``submit(fn, *args)`` returning a future (``done()``, ``result()``, ``cancel()``), as a
        ``concurrent.futures.Executor`` does: computes the features of pieces of speech.
    lanes : int
        Pieces in flight at once.
    run_groups : callable
        ``run_groups`` of :func:`ser_engine.encoder.states_from_mels`.
    """

    pool: object
    lanes: int
    run_groups: object


class Predictor:
    """Labels recordings with one model bundle. Not thread-safe: use from one worker.

    ``threads``: the threads LiteRT and the speech encoder each run (None: their defaults, 2,
    this machine's cores); a process that shares the cores with others gives its share.
    """

    def __init__(self, bundle, *, batch_size=None, threads=None):
        self.bundle = bundle
        self._batch_size = batch_size
        self._threads = threads
        self.config = bundle.feature_config
        self.window = bundle.window
        self.labels = bundle.labels
        self._global = bundle.global_stats
        self._banks = bundle.filter_banks()
        self.front_end = getattr(bundle, "front_end", FrontEndConfig())
        self._model = None
        self._encoder = None
        #: Where a recording's features and encoder states are computed: None, in this process;
        #: a Dask worker's predictor has one that spreads a long recording over idle workers
        #: (``spread(speech_seconds)``: a context manager giving a :class:`Spread` or None;
        #: :mod:`ser_engine.batch_cluster`).
        self.spreader = None

    @classmethod
    def from_path(cls, path=None):
        """The predictor of ``path``, or of the active bundle; returns ``(predictor, warning)``."""
        bundle, warning = resolve_bundle(path)
        return cls(bundle), warning

    @property
    def threads(self):
        """The threads each runtime was asked for (None: its default)."""
        return self._threads

    @property
    def model(self):
        """LiteRT's interpreter for the bundle's ``model.tflite``, else the Keras model."""
        if self._model is None:
            self._model = self.bundle.load_inference_model(threads=self._threads)
        return self._model

    @property
    def encoder(self):
        """The speech encoder of an encoder front end (checked against the bundle; loads it)."""
        if self._encoder is None:
            from .encoder import SpeechEncoder

            self._encoder = SpeechEncoder(self.bundle.encoder_spec, threads=self._threads)
        return self._encoder

    @property
    def whisper_bank(self):
        """Whisper's mel filter bank (stored in the bundle; librosa's when the bundle has none)."""
        bank = getattr(self.bundle, "whisper_bank", None)
        if bank is None:
            from .encoder import whisper_mel_bank

            bank = whisper_mel_bank()
        return bank

    @property
    def frame_rate(self):
        """Model frames per second."""
        return self.front_end.rate(self.config)

    def region_states(self, pieces):
        """Encoder states of speech regions from their samples (:func:`ser_engine.encoder.region_states`)."""
        from .encoder import region_states

        return region_states(self.encoder, pieces, bank=self.whisper_bank)

    def encode_mels(self, mels, *, on_group=None, run_groups=None):
        """Encoder states of speech regions from their Whisper log-mel frames
        (:func:`ser_engine.encoder.states_from_mels`, ``on_group`` after each group of chunks,
        ``run_groups`` what encodes them: None, this predictor's encoder)."""
        from .encoder import states_from_mels

        return states_from_mels(self.encoder, mels, on_group=on_group, run_groups=run_groups)

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
        run_model(self.model, np.zeros((1, self.window.length, self.front_end.n_features(self.config)), np.float32),
                  batch_size=self.batch_size)
        if self.front_end.uses_encoder:
            self.encoder  # noqa: B018 - loads and checks the encoder files now, not on the first file
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

    @property
    def speaker_scale(self):
        """How a speaker baseline is applied (:func:`ser_engine.baseline.speaker_stats`)."""
        return self.bundle.manifest["normalisation"].get("speaker_scale", "speaker")

    # -- public API -------------------------------------------------------------------

    def analyse_recording(self, path, **kwargs):
        """A recording as a :class:`~ser_engine.results.Timeline`, streamed block by block; see
        :func:`ser_engine.segments.analyse_recording` for the arguments."""
        from .segments import analyse_recording

        return analyse_recording(self, path, **kwargs)

    def features(self, y):
        """Raw features of a 16 kHz mono signal, with this bundle's settings."""
        return compute_features(y, config=self.config, banks=self._banks)

    def predict_array(self, y, *, path="<array>", baseline=None, config=None):
        """Label a mono float32 signal at the bundle's sample rate: the same
        :class:`~ser_engine.results.Timeline` as :meth:`predict_file` of a file holding it."""
        from .segments import SegmentConfig, label_recording, recording_from_signal

        config = config or SegmentConfig()
        rec = recording_from_signal(self, y, path=str(path), config=config)
        return label_recording(self, rec, baseline, config=config)

    def predict_file(self, path, *, baseline=None, config=None):
        """Label one file. Raises :class:`~ser_engine.errors.AudioLoadError` for a bad file."""
        from .segments import SegmentConfig

        return self.analyse_recording(path, baseline=baseline, config=config or SegmentConfig())

    def reference_baseline(self, path, *, span=None, config=None):
        """A speaker baseline from a reference the user chose: a file, or the stretch ``span`` =
        ``(t0, t1)`` seconds of it (e.g. the speaker's neutral small talk).

        Raises
        ------
        AudioLoadError
            The file cannot be read.
        BaselineError
            It holds too little speech (:data:`~ser_engine.baseline.MIN_BASELINE_SPEECH_S`).
        """
        from .baseline import frames_in_span, span_text, speaker_baseline
        from .segments import SegmentConfig, read_recording

        rec = read_recording(self, path, config=config or SegmentConfig(), content_hash=False)
        where = None if span is None else frames_in_span(rec.n_frames, span, rec.rate)
        return speaker_baseline(rec.speech_stats(where), global_stats=self._global, scale=self.speaker_scale,
                                frame_rate=rec.rate,
                                source=f"reference {Path(path).name}{span_text(span)}")

    def group_baseline(self, recordings, *, source):
        """The shared speaker baseline of one speaker's recordings (read with
        :func:`~ser_engine.segments.read_recording`), or global statistics with the reason
        when together they hold too little speech."""
        from .baseline import or_global, speaker_baseline
        from .segments import group_stats

        return or_global(lambda: speaker_baseline(group_stats(recordings), global_stats=self._global,
                                                  scale=self.speaker_scale, frame_rate=self.frame_rate,
                                                  source=source), global_stats=self._global)

    def analyse_group(self, paths, *, config=None, should_stop=None, on_file=None):
        """Label the recordings of one speaker, normalised by their shared baseline.

        Clips (up to :data:`~ser_engine.results.LONG_RECORDING_S`) form the group; a longer
        recording is a session, its own speaker baseline (``config.baseline``), analysed
        alone: one speaker's sessions are long enough, and holding hours for the group's
        statistics would not fit in memory. Files that cannot be read become
        :class:`Failure` entries; the rest go on.

        Parameters
        ----------
        should_stop : callable() -> bool or None
            Polled between files and blocks; raises
            :class:`~ser_engine.segments.AnalysisCancelled`.
        on_file : callable(done, total) or None
            Called after each clip of the group is read and after each file is labelled.

        Returns
        -------
        list of Timeline or Failure, in the order of ``paths``.
        """
        from .baseline import describe_files
        from .segments import AnalysisCancelled, SegmentConfig, label_recording, read_recording
        from .stream import audio_info

        config = config or SegmentConfig()
        out: dict = {}
        clips: list = []
        for p in paths:
            try:
                (clips if audio_info(p).duration <= LONG_RECORDING_S else []).append(p)
            except SerError:
                clips.append(p)  # reading it says why it cannot be used
        total, done = len(paths) + len(clips), 0

        def step():
            nonlocal done
            done += 1
            if on_file is not None:
                on_file(done, total)

        read = {}
        for p in clips:
            try:
                read[p] = read_recording(self, p, should_stop=should_stop, config=config)
            except AnalysisCancelled:
                raise
            except SerError as exc:
                out[p] = Failure(str(p), _reason(exc))
                step()  # it will not be labelled: its second step too, so progress reaches the total
            step()
        if read:
            baseline = self.group_baseline(list(read.values()), source=describe_files(list(read)))
            for p, rec in read.items():
                out[p] = label_recording(self, rec, baseline, should_stop=should_stop, config=config)
                step()
        for p in paths:
            if p in out:
                continue
            try:
                out[p] = self.analyse_recording(p, should_stop=should_stop, config=config)
            except AnalysisCancelled:
                raise
            except SerError as exc:
                out[p] = Failure(str(p), _reason(exc))
            step()
        return [out[p] for p in paths]

    def predict_group(self, paths, *, progress=None, config=None):
        """:meth:`analyse_group` with ``progress(done, total)`` (the desktop worker's name for it)."""
        return self.analyse_group(paths, config=config, on_file=progress)

    def predict_many(self, paths, *, speaker_baseline=False, baseline=None, config=None):
        """Label files one by one; a bad file becomes a :class:`Failure` and the rest go on.

        With ``speaker_baseline`` the files of each folder form one speaker group
        (:meth:`analyse_group`); ``baseline`` (a reference's) normalises every file instead.
        """
        paths = [Path(p) for p in paths]
        if speaker_baseline and baseline is None:
            groups: dict = {}
            for p in paths:
                groups.setdefault(p.parent, []).append(p)
            for group in groups.values():
                yield from self.analyse_group(group, config=config)
            return
        for p in paths:
            try:
                yield self.predict_file(p, baseline=baseline, config=config)
            except SerError as exc:
                yield Failure(str(p), _reason(exc))


def _reason(exc):
    # AudioLoadError carries the bare reason; the path is reported beside it.
    return exc.reason if isinstance(exc, AudioLoadError) else str(exc)
