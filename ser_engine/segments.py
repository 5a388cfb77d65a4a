"""Recordings of any length: find the speech, compute its features, label it through the one
labelling core (:mod:`ser_engine.labelling`).

:func:`analyse_recording` reads a file block by block, never holding the audio whole, in
three stages:

1. **reading**: decode + resample each block (:mod:`ser_engine.stream`), feed the speech
   detector (:mod:`ser_engine.vad`: an adaptive noise floor, so steady noise and babble
   between utterances stay "no speech"), a sparse log-mel for display, and the waveform
   overview. Cheap (the cost of decoding and a few products per frame).
2. **features**: the detector's mask, gaps and bursts cleaned up, gives the speech regions
   (and every segment's signal-to-noise ratio: too noisy is "uncertain"); a second
   streaming read computes the full features of those regions only (exactly as one pass
   would), so silence costs nothing. Only these features are kept (119 float32 per 10 ms of
   speech: at most ~170 MB for an hour). Blocks of regions are computed in
   ``feature_threads`` threads, and the file's sha256 in another, beside them.
   Stages 1 and 2 give a :class:`Recording` (:func:`read_recording`); a signal in memory
   gives the same one (:func:`recording_from_signal`).
3. **labelling** (:func:`label_recording`): a baseline normalises the frames
   (:func:`choose_baseline`, or a folder's or a reference's); the labelling core cuts each
   region into 3 s windows every 1 s, runs the model ``windows_per_block`` windows at a time,
   and hands the segments no later window changes to ``on_block`` as soon as their windows
   are labelled (a recording that gets its own emotion mix has them all replaced in the end).

Why a baseline from all of a recording's speech rather than running statistics (which would
let labelling start with the first block): with running statistics the first minutes would be
judged against a baseline of themselves only and a segment's label would depend on the block
size. The baseline of all the speech keeps every result deterministic, independent of block
sizes and equal to the one-pass analysis; the GUI still gets its waveform after stage 1
(seconds for an hour) and fills the timeline during stage 3.
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from .channel import band_ratio_db, narrow_and_alone, poor_channel
from .encoder import log_mel
from .errors import SerError
from .features import filter_banks
from .frontend import FrontEndConfig, model_frames, model_mask, snap_regions
from .labelling import (
    MIN_MIX_EVIDENCE,
    MIN_MIX_EVIDENCE_RATE,
    MIN_MIX_SPEECH_S,
    MIX_STRENGTH_S,
    MIX_TEMPERATURE,
    Labeller,
    label_windows,
    plan_windows,
)
from .normalise import masked_stats
from .results import NO_SPEECH, Timeline
from .stream import (
    FrameScan,
    OverviewBuilder,
    audio_info,
    file_ranges,
    iter_blocks,
    iter_ranges,
    ranges_read_alone,
    region_sample_range,
    regions_features,
    samples_of,
)
from .vad import SpeechDetector, too_noisy

_EPS = 1e-7
#: Shares of the progress bar of the stages reading, features, the speech encoder and labelling,
#: roughly their measured costs: for the classic front end on speech-heavy recordings (BENCHMARKS.md
#: "bench_long"); with the encoder, a 5-minute session of clips and pauses here (reading 0.29 s,
#: features 0.48 s, encoder 6.69 s, labelling 0.24 s).
SHARES = {False: (0.1, 0.55, 0.0, 0.35), True: (0.04, 0.06, 0.87, 0.03)}
READING, FEATURES, ENCODER, LABELLING = range(4)


def progress_at(uses_encoder: bool, stage: int, fraction: float) -> float:
    """Where the progress bar is when ``stage`` is ``fraction`` done."""
    shares = SHARES[bool(uses_encoder)]
    return float(sum(shares[:stage]) + shares[stage] * min(max(fraction, 0.0), 1.0))


#: Feature frames per column of the display log-mel (0.1 s).
MEL_STEP = 10


class AnalysisCancelled(SerError):
    """The user stopped the analysis of a recording; nothing was returned."""

    def __init__(self, path):
        self.path = str(path)
        super().__init__(f"{self.path}: analysis cancelled")


@dataclasses.dataclass(frozen=True)
class SegmentConfig:
    """How a long recording is cut into segments. Times in seconds.

    Attributes
    ----------
    block_seconds : float
        Audio decoded at a time in the reading stage (memory: ~4 bytes x 16 kHz x this).
    windows_per_block : int
        Model windows labelled between two progress reports in the labelling stage.
    min_pause : float
        Quieter gaps shorter than this stay inside the speech around them (pauses between
        words are not "no speech" segments).
    min_speech : float
        Louder bursts shorter than this (clicks, a cough) are not speech.
    pad : float
        Speech regions are widened by this much on both sides (the quiet ends of words).
    smooth : int
        Windows (odd) whose log-probabilities are averaged around each window (1: off).
    baseline : str
        ``"auto"``: the recording's own statistics when it has at least
        ``min_baseline_speech`` seconds of speech, else the bundle's global ones;
        ``"speaker"`` (refused, with the reason, below
        :data:`~ser_engine.baseline.MIN_BASELINE_SPEECH_S`) or ``"global"`` to force one.
    min_baseline_speech : float
    feature_threads : int
        Threads computing the features of speech regions (NumPy's FFTs and products run
        without the GIL); with BLAS limited to one thread each, 2 use both cores of a
        small machine. The result does not depend on it.
    mix : str
        ``"auto"``: the recording's own mix of emotions, estimated from its speech (each
        speaker's, with speaker turns) where it holds at least ``min_mix_speech`` seconds and
        its evidence passes the gates below (:meth:`~ser_engine.labelling.Labeller.adapt_mix`);
        ``"training"``: the training data's mix (nearly even) always.
    min_mix_speech : float
    mix_strength : float
        Seconds of speech the training data's mix counts for beside the recording's.
    min_mix_evidence : float
        How much better the recording's own mix must explain its speech in all
        (:func:`~ser_engine.labelling.mix_evidence`) before it is used.
    min_mix_evidence_rate : float
        The same per second of speech.
    mix_firms : bool
        Whether the recording's own mix may make a segment's label firm (``Labeller``'s
        ``mix_firms``); False: a segment is uncertain whenever its speech alone, under the
        training data's mix, is below the model's threshold for its label.
    mix_temperature : float
        Temperature of probabilities moved to the recording's own mix (``Labeller``'s).
    speakers : int or None
        1: the recording is one speaker's (no speaker step). 2 or more: that many speakers;
        None: their number is estimated (:mod:`ser_engine.speakers`: less reliable than a
        given number, BENCHMARKS.md). With more than one, emotion windows are cut at speaker
        turns, each speaker gets their own baseline (by ``baseline``) and their own answer.
    """

    block_seconds: float = 60.0
    windows_per_block: int = 256
    min_pause: float = 0.5
    min_speech: float = 0.25
    pad: float = 0.1
    smooth: int = 3
    baseline: str = "auto"
    min_baseline_speech: float = 30.0
    feature_threads: int = 2
    mix: str = "auto"
    min_mix_speech: float = MIN_MIX_SPEECH_S
    mix_strength: float = MIX_STRENGTH_S
    min_mix_evidence: float = MIN_MIX_EVIDENCE
    min_mix_evidence_rate: float = MIN_MIX_EVIDENCE_RATE
    mix_firms: bool = True
    mix_temperature: float = MIX_TEMPERATURE
    speakers: int | None = 1


@dataclasses.dataclass
class BlockUpdate:
    """Progress of :func:`analyse_recording`, passed to ``on_block`` after every block.

    Attributes
    ----------
    stage : str
        ``"reading"`` (decoding, energies, overview), ``"features"`` (speech regions, then a
        speech encoder's states, reported every :data:`~ser_engine.encoder.GROUP_CHUNKS` chunks)
        or ``"labelling"`` (model).
    done_seconds : float
        Reading: audio decoded so far. Features: the end of the last region done.
        Labelling: the end of the last final segment.
    total_seconds : float
        The recording's duration (from the file header until the reading stage ends).
    fraction : float
        Overall progress in [0, 1] for one progress bar over all stages (:data:`SHARES`).
    new_segments : list of Segment
        Segments final since the previous update (labelling only), in time order. Together
        the updates deliver exactly ``Timeline.segments`` when the recording keeps the
        training data's mix of emotions; when it gets its own (``SegmentConfig.mix``), they
        are the timeline under the training data's mix, and the returned Timeline's segments,
        moved to the recording's mix, replace them (the same time, labels that may differ).
    overview : ser_engine.stream.Overview or None
        Set on exactly one update, the last of the reading stage: the recording's waveform
        and log-mel overview (the same object as ``Timeline.overview``), so a display can
        draw the whole recording long before its labels are ready.
    """

    stage: str
    done_seconds: float
    total_seconds: float
    fraction: float
    new_segments: list
    overview: object = dataclasses.field(default=None, repr=False, compare=False)


# -- voice activity -------------------------------------------------------------------


def speech_regions(mask, *, config, seg=SegmentConfig()):
    """Frame ranges ``[(lo, hi), ...]`` of speech from a frame mask (:mod:`ser_engine.vad`).

    Gaps shorter than ``min_pause`` are filled, regions with less than ``min_speech`` of
    speech frames dropped (counted in the mask, not the span: clicks scattered over half a
    second are not half a second of speech), and each region padded by ``pad``.
    """
    rate = config.frame_rate
    runs = _runs(mask)
    n = len(mask)
    # fill short gaps
    merged: list[tuple[int, int]] = []
    for lo, hi in runs:
        if merged and lo - merged[-1][1] < seg.min_pause * rate:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    voiced = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    kept = [(lo, hi) for lo, hi in merged if voiced[hi] - voiced[lo] >= seg.min_speech * rate]
    pad = int(round(seg.pad * rate))
    out: list[tuple[int, int]] = []
    for lo, hi in kept:
        lo, hi = max(lo - pad, 0), min(hi + pad, n)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    # a sliver of silence at either end of the file is not worth a segment
    if out and out[0][0] < seg.min_pause * rate:
        out[0] = (0, out[0][1])
    if out and n - out[-1][1] < seg.min_pause * rate:
        out[-1] = (out[-1][0], n)
    return out


def _runs(mask):
    """``[(lo, hi), ...]`` of the True runs of a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


# -- the entry point ---------------------------------------------------------------------


@dataclasses.dataclass
class Recording:
    """A recording read for labelling: where its speech is and the features of that speech.

    Attributes
    ----------
    Everything is on the model's time grid (:mod:`ser_engine.frontend`): ``rate`` frames per
    second (100 for classic frames, 50 for encoder frames).

    Attributes
    ----------
    path : str
    duration : float
        Seconds.
    mask : np.ndarray [shape=(n_frames,), dtype=bool]
        Speech frames (voice activity) of the whole recording.
    regions : list of (lo, hi)
        Speech regions in frames (:func:`speech_regions`).
    feats : list of np.ndarray [shape=(hi - lo, n_features)]
        Raw model frames of each region, equal to one pass over the whole signal.
    rate : float
    sha256 : str or None
    overview : ser_engine.stream.Overview or None
    turns : list of (lo, hi, speaker) or None
        Speaker turns partitioning the regions (frames), when speakers were found.
    """

    path: str
    duration: float
    mask: np.ndarray
    regions: list
    feats: list
    rate: float = 100.0
    sha256: str | None = None
    overview: object = dataclasses.field(default=None, repr=False)
    turns: list | None = None
    #: signal-to-noise ratios of stretches (ser_engine.vad.SnrMeter, on the 10 ms grid), or None
    snr: object = dataclasses.field(default=None, repr=False)
    #: how much of the speech's band the channel kept (ser_engine.channel.band_ratio_db), or None
    band_db: float | None = None

    @property
    def n_frames(self):
        return len(self.mask)

    @property
    def n_speakers(self):
        return 1 if self.turns is None else len({k for _, _, k in self.turns})

    def units(self):
        """What is labelled one at a time: ``(regions, feats, speakers)``, the speech regions
        or, with speakers, their turns (so no window and no segment spans two speakers)."""
        if self.turns is None:
            return self.regions, self.feats, None
        regions, feats, speakers = [], [], []
        r = 0
        for lo, hi, k in self.turns:
            while self.regions[r][1] <= lo:
                r += 1
            rlo = self.regions[r][0]
            regions.append((lo, hi))
            feats.append(self.feats[r][lo - rlo:hi - rlo])
            speakers.append(k)
        return regions, feats, speakers

    def speaker_mask(self, k):
        """The frames of speaker ``k``'s turns."""
        out = np.zeros(self.n_frames, bool)
        for lo, hi, s in self.turns or []:
            if s == k:
                out[lo:hi] = True
        return out

    def speech_stats(self, span_mask=None):
        """Mean and spread of the speech frames inside the regions (optionally only those where
        ``span_mask`` is True), or None without any."""
        masks = [self.mask[lo:hi] if span_mask is None else self.mask[lo:hi] & span_mask[lo:hi]
                 for lo, hi in self.regions]
        try:
            return masked_stats(self.feats, masks)
        except ValueError:  # no loud frame inside the regions
            return None


def group_stats(recordings):
    """Mean and spread of the speech frames of several recordings together (None without any)."""
    feats = [X for rec in recordings for X in rec.feats]
    masks = [rec.mask[lo:hi] for rec in recordings for lo, hi in rec.regions]
    try:
        return masked_stats(feats, masks)
    except ValueError:
        return None


def analyse_recording(predictor, path, *, on_block=None, should_stop=None, config=SegmentConfig(),
                      content_hash=True, baseline=None):
    """Label a recording of any length, block by block, into a :class:`~ser_engine.results.Timeline`.

    Parameters
    ----------
    predictor : ser_engine.predictor.Predictor
    path : str or Path
    on_block : callable(BlockUpdate) or None
        Called (in the calling thread) after every block of every stage.
    should_stop : callable() -> bool or None
        Polled before every block; when it returns True the analysis stops and
        :class:`AnalysisCancelled` is raised.
    config : SegmentConfig
    content_hash : bool
        Also compute the sha256 of the file's bytes (the key of its review).
    baseline : ser_engine.baseline.Baseline or None
        The normalisation to use (a folder's or a reference's speaker baseline); None chooses
        by ``config.baseline`` (:func:`choose_baseline`).

    Raises
    ------
    AudioLoadError
        The file cannot be read (one line: the file and the reason).
    AnalysisCancelled
    """
    rec = read_recording(predictor, path, on_block=on_block, should_stop=should_stop, config=config,
                         content_hash=content_hash)
    with _one_blas_thread():
        return label_recording(predictor, rec, baseline, on_block=on_block, should_stop=should_stop, config=config)


def read_recording(predictor, path, *, on_block=None, should_stop=None, config=SegmentConfig(), content_hash=True):
    """Stages 1 and 2 of :func:`analyse_recording`: the :class:`Recording` of a file, streamed."""
    hasher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ser-hash")
    try:
        with _one_blas_thread():
            return _read(predictor, Path(path), on_block, should_stop, config, content_hash, hasher)
    finally:
        # after a cancel or an error the hash is not needed: do not wait for it
        hasher.shutdown(wait=False, cancel_futures=True)


def recording_from_signal(predictor, y, *, path="<array>", config=SegmentConfig()):
    """The :class:`Recording` of a signal in memory: the same voice activity, regions,
    features, speaker turns and signal-to-noise ratios as :func:`read_recording` gives for a
    file holding it."""
    fc = predictor.config
    det = SpeechDetector(sample_rate=fc.sample_rate, hop_length=fc.hop_length)
    det.feed(y)
    mask = det.finish()
    X = predictor.features(y)
    fe = predictor.front_end
    states = None
    if fe.uses_encoder:
        regions = regions_of(mask, feature_config=fc, config=config, step=fe.step)
        states = predictor.region_states([(y, 0, lo, hi) for lo, hi in regions])
    rec = recording_from_features(X, mask, feature_config=fc, config=config, path=path,
                                  duration=len(y) / fc.sample_rate, front_end=fe, states=states,
                                  encoder=encoder_name(predictor), mel_bank=_mel_bank(predictor))
    rec.snr = det.snr_meter()
    return rec


def _mel_bank(predictor):
    """The mel filter bank of ``predictor``'s classic frames (the bundle's, else librosa's)."""
    return predictor.banks[0] if predictor.banks is not None else filter_banks(config=predictor.config)[0]


def regions_of(mask, *, feature_config, config=SegmentConfig(), step=1):
    """Speech regions (10 ms frames, snapped to ``step``) of a speech mask."""
    if np.ndim(mask) != 1:
        raise TypeError(f"speech regions come from the speech detector's mask (one value per frame), "
                        f"not from an array of shape {np.shape(mask)}")
    return snap_regions(speech_regions(mask, config=feature_config, seg=config), len(mask), step)


def recording_from_features(X, mask, *, feature_config, config=SegmentConfig(), path="<features>", duration=None,
                            front_end=FrontEndConfig(), states=None, encoder=None, mel_bank=None):
    """The :class:`Recording` of a whole signal's classic frames (training's cached features)
    and its speech mask (:func:`ser_engine.vad.speech_mask`), and, for an encoder front end,
    its regions' encoder ``states`` (in region order): regions, and the regions' model frames.
    ``duration`` defaults to the frames' span. ``encoder``: the name of the encoder that
    computed the states (the speaker step uses them when its space was fitted on them).
    ``mel_bank``: the classic frames' mel filters, to measure the speech's band
    (:attr:`Recording.band_db`); None leaves it unmeasured."""
    mask = np.asarray(mask, bool)
    if len(mask) != len(X):
        raise ValueError(f"{path}: a speech mask of {len(mask)} frames for {len(X)} feature frames")
    regions = regions_of(mask, feature_config=feature_config, config=config, step=front_end.step)
    if duration is None:
        duration = len(X) / feature_config.frame_rate
    if front_end.uses_encoder and (states is None or len(states) != len(regions)):
        raise ValueError(f"{path}: {len(regions)} speech regions need as many encoder state arrays")
    feats = [model_frames(front_end, X[lo:hi], states[r] if states is not None else None)
             for r, (lo, hi) in enumerate(regions)]
    turns = None
    if config.speakers != 1:
        from .speakers import speaker_turns

        turns = speaker_turns(regions, [X[lo:hi] for lo, hi in regions], config=feature_config,
                              n_speakers=config.speakers, states=states if front_end.uses_encoder else None,
                              encoder=encoder).turns
    rec = _on_model_grid(str(path), float(duration), mask, regions, feats, front_end, feature_config, turns=turns)
    if mel_bank is not None:  # on the frames the reading stage's display log-mel has (read_recording)
        rec.band_db = band_ratio_db(X[::MEL_STEP, :feature_config.n_mels], mask[::MEL_STEP], mel_bank=mel_bank,
                                    config=feature_config)
    return rec


def _on_model_grid(path, duration, mask, regions, feats, front_end, fc, sha256=None, overview=None, turns=None):
    step = front_end.step

    def grid(lo, hi):
        return lo // step, -(-hi // step)

    return Recording(path, duration, model_mask(mask, step), [grid(lo, hi) for lo, hi in regions],
                     feats, front_end.rate(fc), sha256, overview,
                     None if turns is None else [(*grid(lo, hi), k) for lo, hi, k in turns])


def choose_baseline(predictor, rec, config=SegmentConfig(), *, speaker=None):
    """The normalisation ``config.baseline`` asks for: ``"global"``; ``"speaker"`` (the
    recording's own speech, refused with the reason when it holds less than
    :data:`~ser_engine.baseline.MIN_BASELINE_SPEECH_S`); ``"auto"``: the recording's own speech
    when it holds at least ``config.min_baseline_speech`` seconds, else global. With
    ``speaker``, the same from that speaker's turns only, its record naming the speaker (so a
    renamed speaker is called by their name on screen)."""
    chosen = _baseline(predictor, rec, config, speaker)
    if speaker is None:
        return chosen
    return dataclasses.replace(chosen, normalisation=dataclasses.replace(chosen.normalisation, speaker=speaker))


def _baseline(predictor, rec, config, speaker):
    from .baseline import global_baseline, or_global, speaker_baseline, too_little_speech
    from .results import is_session, speaker_name

    g = predictor.global_stats
    if config.baseline == "global":
        return global_baseline(g)
    if config.baseline not in ("speaker", "auto"):
        raise ValueError(f"unknown baseline {config.baseline!r}")
    raw = (rec.speech_stats(None if speaker is None else rec.speaker_mask(speaker)) if rec.regions else None)
    seconds = 0.0 if raw is None else raw.n_frames / rec.rate
    source = "this recording" if speaker is None else f"{speaker_name(speaker)}'s speech in this recording"
    if config.baseline == "auto" and seconds < config.min_baseline_speech:
        # a session is expected to be its own baseline: say why it is not (a clip never is)
        why = too_little_speech(source, seconds, config.min_baseline_speech) if is_session(rec) else None
        return global_baseline(g, note=why)

    def own():
        return speaker_baseline(raw, global_stats=g, scale=predictor.speaker_scale, frame_rate=rec.rate,
                                source=source)

    return or_global(own, global_stats=g)


def label_recording(predictor, rec, baseline, *, on_block=None, should_stop=None, config=SegmentConfig()):
    """Stage 3 of :func:`analyse_recording`: the :class:`~ser_engine.results.Timeline` of a
    :class:`Recording`, through the one labelling core.

    ``baseline`` normalises every speaker; None (a recording with speaker turns) gives each
    speaker their own by ``config.baseline`` (:func:`choose_baseline`)."""
    from .results import SpeakerResult

    duration = rec.duration
    regions, feats, speakers = rec.units()
    n_speakers = rec.n_speakers if speakers is not None else 1
    if baseline is None:
        if speakers is None:
            baseline = choose_baseline(predictor, rec, config)
        else:
            per_speaker = [choose_baseline(predictor, rec, config, speaker=k) for k in range(n_speakers)]
    if baseline is not None:
        per_speaker = [baseline] * n_speakers
    unit_stats = baseline.stats if speakers is None else [per_speaker[k].stats for k in speakers]
    temps = (predictor.bundle.temperature(baseline.mode) if speakers is None
             else [predictor.bundle.temperature(per_speaker[k].mode) for k in speakers])
    labeller = Labeller(plan_windows(regions, rec.n_frames, length=predictor.window.length, hop=predictor.window.hop),
                        labels=predictor.labels, temperature=temps, uncertain_below=predictor.bundle.uncertain_below,
                        rate=rec.rate, duration=duration, smooth=config.smooth, speakers=speakers,
                        mix_firms=config.mix_firms, mix_temperature=config.mix_temperature)

    # narrow-band speech labelled alone is not trusted (ser_engine.channel); a speaker baseline
    # from the same channel makes it so again, so the mark follows each unit's normalisation
    alone = [narrow_and_alone(rec, b.normalisation) for b in per_speaker]

    def mark(segments):
        for seg in segments:
            _mark_noise(seg, rec.snr, predictor.config.frame_rate)
            if seg.is_speech and alone[seg.speaker or 0]:
                seg.uncertain = True

    def report(new, fraction):
        mark(new)
        if on_block is not None:
            done = labeller.segments[-1].end if labeller.segments else 0.0
            frac = 1.0 if labeller.finished else progress_at(predictor.front_end.uses_encoder, LABELLING, fraction)
            on_block(BlockUpdate("labelling", float(done), float(duration), frac, list(new)))

    label_windows(predictor.model, feats, regions, unit_stats, labeller, length=predictor.window.length,
                  batch_size=predictor.batch_size, windows_per_block=config.windows_per_block, on_segments=report,
                  should_stop=should_stop)
    if not labeller.finished:
        raise AnalysisCancelled(rec.path)
    mixes = _adapt_mix(predictor, labeller, config)
    if mixes:  # the segments were merged again under the recording's mix: the final ones
        mark(labeller.segments)
    answer = labeller.answer()
    speaker_results = []
    if speakers is not None:
        runs = _turn_counts(rec.turns, n_speakers)
        for k in range(n_speakers):
            a = labeller.answer(k)
            secs = sum(hi - lo for lo, hi, s in rec.turns if s == k) / rec.rate
            speaker_results.append(SpeakerResult(k, secs, runs[k], a.label, a.confidence, a.probabilities,
                                                 a.uncertain, per_speaker[k].normalisation,
                                                 _mix_source(k in mixes)))
    speech = answer.label != NO_SPEECH
    timeline = Timeline(path=rec.path, duration=duration, segments=labeller.segments, labels=tuple(predictor.labels),
                        model_id=predictor.bundle.model_id, model_version=predictor.bundle.version,
                        normalisation=_overall(per_speaker) if speakers is not None else baseline.normalisation,
                        label=answer.label, confidence=answer.confidence, probabilities=answer.probabilities,
                        sha256=rec.sha256, speakers=speaker_results,
                        snr_db=rec.snr() if rec.snr is not None and speech else None,
                        band_db=rec.band_db if speech else None, overview=rec.overview,
                        emotion_mix=_mix_source(bool(mixes)) if speech else None)
    timeline.mix_evidence = labeller.evidence.get(None)
    timeline.mix_speech_seconds = labeller.speech_seconds.get(None)
    # the channel's rule is the screens' and the report's (ser_engine.channel), applied once here,
    # to the recording's answer and to each speaker's
    timeline.uncertain = answer.uncertain or poor_channel(timeline)
    for sp in speaker_results:
        sp.uncertain = sp.uncertain or poor_channel(timeline, sp.normalisation)
    return timeline


def _adapt_mix(predictor, labeller, config):
    """The recording's own mix of emotions where ``config`` asks for it and the bundle counts
    its training data's (:meth:`~ser_engine.labelling.Labeller.adapt_mix`): speaker (None for
    the whole recording) -> mix, empty when the training data's mix stays."""
    if config.mix == "training":
        return {}
    if config.mix != "auto":
        raise ValueError(f"unknown mix {config.mix!r}")
    train = getattr(predictor.bundle, "training_mix", None)
    if train is None:
        return {}
    return labeller.adapt_mix(train, strength_seconds=config.mix_strength, min_seconds=config.min_mix_speech,
                              min_evidence=config.min_mix_evidence,
                              min_evidence_rate=config.min_mix_evidence_rate)


def _mix_source(adapted):
    """Whose mix of emotions a result's probabilities assume (results' ``emotion_mix``)."""
    from .results import MIX_RECORDING, MIX_TRAINING

    return MIX_RECORDING if adapted else MIX_TRAINING


def _mark_noise(seg, meter, rate):
    """A speech segment's SNR, and "uncertain" when its speech is too close to the noise.
    ``rate``: frames per second of the meter (the speech mask's grid)."""
    if meter is None or not seg.is_speech:
        return
    seg.snr_db = meter(int(round(seg.start * rate)), int(round(seg.end * rate)))
    seg.uncertain = seg.uncertain or too_noisy(seg.snr_db)


def _turn_counts(turns, n):
    """Times each speaker takes the floor (a run of one speaker in time order, pauses included)."""
    counts, prev = [0] * n, None
    for _, _, k in turns:
        if k != prev:
            counts[k] += 1
        prev = k
    return counts


def _overall(per_speaker):
    """The recording's :class:`~ser_engine.results.Normalisation` when speakers have their own."""
    from .results import Normalisation

    norms = {b.normalisation for b in per_speaker}
    if len(norms) == 1:
        return norms.pop()
    return Normalisation("speaker", "each speaker's own speech where it is long enough (see each speaker)")


def _one_blas_thread():
    """BLAS limited to one thread while a recording is analysed.

    The products here are small (a block's frames times a 64-band filter bank); OpenBLAS's
    second thread gains little on them and, on a busy two-core machine, its spinning costs
    more than it gives (measured: the reading stage took about twice as long). The
    parallelism is ours instead (``feature_threads``). Without threadpoolctl this is a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with librosa's scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _read(predictor, path, on_block, should_stop, config, content_hash, hasher):
    fc = predictor.config
    sr, hop = fc.sample_rate, fc.hop_length
    total = audio_info(path).duration
    mel_bank = _mel_bank(predictor)

    def report(stage, done, fraction, overview=None):
        if on_block is not None:
            on_block(BlockUpdate(stage, float(done), float(total), float(min(max(fraction, 0.0), 1.0)), [], overview))

    def check_stop():
        if should_stop is not None and should_stop():
            raise AnalysisCancelled(path)

    def at(stage, fraction):
        return progress_at(predictor.front_end.uses_encoder, stage, fraction)

    # stage 1: reading (voice activity, the display's log-mel, the overview)
    scan = FrameScan(config=fc, mel_bank=mel_bank, mel_step=MEL_STEP)
    detector = SpeechDetector(sample_rate=sr, hop_length=hop)
    overview = OverviewBuilder(sr=sr)
    for block in iter_blocks(path, sr=sr, block_seconds=config.block_seconds):
        check_stop()
        overview.add_samples(block)
        scan.feed(block)
        detector.feed(block)
        # the header's duration can differ from the decoded one by a hair: never past the stage
        report("reading", scan.n_samples / sr, at(READING, scan.n_samples / sr / max(total, 1e-9)))
    _, mel = scan.finish()
    mask = detector.finish()
    n_samples = scan.n_samples
    duration = total = n_samples / sr
    view = overview.build(mel=mel, mel_seconds=MEL_STEP / fc.frame_rate)
    report("reading", duration, at(READING, 1.0), overview=view)
    # the hash reads the file's bytes once more: in the background, beside the features
    sha_future = hasher.submit(file_sha256, path) if content_hash else None

    # stage 2: features of the speech regions
    fe = predictor.front_end
    regions = regions_of(mask, feature_config=fc, config=config, step=fe.step)
    # long regions are computed in chunks of at most one block, so memory stays bounded
    block_frames = max(int(config.block_seconds * fc.frame_rate), 1)
    chunks = [(r, a, min(a + block_frames, hi)) for r, (lo, hi) in enumerate(regions)
              for a in range(lo, hi, block_frames)]
    ranges = [region_sample_range(a, b, config=fc, n_samples=n_samples) for _, a, b in chunks]
    parts: list[list[np.ndarray]] = [[] for _ in regions]
    mels: list[list[np.ndarray]] | None = [[] for _ in regions] if fe.uses_encoder else None
    tracker = None
    if config.speakers != 1:
        from .speakers import SpeakerTracker

        tracker = SpeakerTracker(config=fc, encoder=encoder_name(predictor))
    speech_frames = sum(hi - lo for lo, hi in regions)
    done_frames = 0
    group: list = []
    group_samples = 0
    pending: collections.deque = collections.deque()  # (chunks, future) of groups being computed, in order

    def collect(wait_all):
        # results are taken in submission order, so parts and progress stay in time order
        nonlocal done_frames
        while pending and (wait_all or len(pending) >= lanes or pending[0][1].done()):
            keys, fut = pending.popleft()
            feats_of_group, mels_of_group = fut.result()
            for k, ((r, a, b), X) in enumerate(zip(keys, feats_of_group, strict=True)):
                parts[r].append(X)
                if tracker is not None:
                    if a == regions[r][0]:
                        tracker.end_region()  # its regions are these, even where two touch
                    tracker.add(a, b, X)
                if mels is not None:
                    mels[r].append(mels_of_group[k])
                done_frames += b - a
            report("features", keys[-1][2] / fc.frame_rate, at(FEATURES, done_frames / max(speech_frames, 1)))

    def submit():
        nonlocal group, group_samples
        check_stop()
        pieces = [g[1] for g in group]
        pending.append(([g[0] for g in group], pool.submit(_piece_frames, pieces, fc, predictor.banks,
                                                            predictor.whisper_bank if mels is not None else None)))
        group, group_samples = [], 0
        collect(False)

    threads = max(int(config.feature_threads), 1)
    spreader = predictor.spreader
    with spreader.spread(speech_frames / fc.frame_rate) if spreader else contextlib.nullcontext() as spread:
        lanes = spread.lanes if spread else threads
        with (contextlib.nullcontext(spread.pool) if spread
              else concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="ser-features")) as pool:
            try:
                # spread: a worker reads a piece's samples itself where the file allows, so that
                # this one does not decode them and send them through the scheduler
                for c, y in (file_ranges(path, ranges, n_samples=n_samples)
                             if spread is not None and ranges_read_alone(path, sr=sr)
                             else iter_ranges(path, ranges, sr=sr, block_seconds=config.block_seconds)):
                    r, a, b = chunks[c]
                    group.append((chunks[c], (y, ranges[c][0], a, b)))
                    group_samples += len(y)
                    if group_samples >= config.block_seconds * sr or len(y) % hop:
                        submit()
                if group:
                    submit()
                collect(True)
            finally:
                for _, fut in pending:  # cancelled or failed: do not wait for queued work
                    fut.cancel()
        feats = [p[0] if len(p) == 1 else np.concatenate(p) for p in parts]
        parts.clear()  # the pieces of long regions, now joined
        if mels is not None:
            check_stop()

            def encoded(done, total, regions_done):
                check_stop()
                report("features", regions[regions_done - 1][1] / fc.frame_rate if regions_done else 0.0,
                       at(ENCODER, done / max(total, 1)))

            states = predictor.encode_mels([m[0] if len(m) == 1 else np.concatenate(m) for m in mels],
                                           on_group=encoded, run_groups=spread.run_groups if spread else None)
            feats = [model_frames(fe, X, st) for X, st in zip(feats, states, strict=True)]
            if tracker is not None:
                for (lo, _), st in zip(regions, states, strict=True):
                    tracker.add_states(lo, st)
    turns = tracker.finish(n_speakers=config.speakers).turns if tracker is not None else None
    sha = sha_future.result() if sha_future is not None else None
    rec = _on_model_grid(str(path), duration, mask, regions, feats, fe, fc, sha, view, turns)
    rec.snr = detector.snr_meter()
    rec.band_db = band_ratio_db(mel, mask[::MEL_STEP][:len(mel)], mel_bank=mel_bank, config=fc)
    return rec


def encoder_name(predictor):
    """The name of the speech encoder ``predictor`` computes states with, or None."""
    spec = getattr(predictor.bundle, "encoder_spec", None) if predictor.front_end.uses_encoder else None
    return spec.name if spec is not None else None


def _piece_frames(pieces, fc, banks, whisper_bank):
    """Classic frames of pieces of regions (one features call) and, for an encoder front end,
    their Whisper log-mel frames. A piece's samples may be a :class:`~ser_engine.stream.FileRange`."""
    pieces = [(samples_of(y), s0, lo, hi) for y, s0, lo, hi in pieces]
    feats = regions_features(pieces, config=fc, banks=banks)
    if whisper_bank is None:
        return feats, None
    return feats, [log_mel(y, s0=s0, lo=lo, hi=hi, bank=whisper_bank) for y, s0, lo, hi in pieces]


def file_sha256(path, *, chunk=1 << 20):
    """The sha256 (hex) of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()
