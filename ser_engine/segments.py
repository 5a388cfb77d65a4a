"""Long recordings: find the speech, label it window by window, smooth, merge into segments.

:func:`analyse_recording` is the one entry point (the CLI, the batch runner and the desktop
all use it). It reads the file block by block, never holding the audio whole, in three stages:

1. **reading**: decode + resample each block (:mod:`ser_engine.stream`), take every frame's
   energy and a sparse log-mel for display, and the waveform overview. Cheap (the cost of
   decoding and one dot product per frame).
2. **features**: voice activity over the whole recording (energy within ``speech_top_db`` of
   its loudest frames, gaps and bursts cleaned up) gives the speech regions; a second
   streaming read computes the full features of those regions only (exactly as one pass
   would), so silence costs nothing. Only these features are kept (119 float32 per 10 ms of
   speech: at most ~170 MB for an hour). Blocks of regions are computed in
   ``feature_threads`` threads, and the file's sha256 in another, beside them.
3. **labelling**: the recording's own speaker baseline (mean/std of all its speech frames)
   normalises the frames; each region is cut into 3 s windows every 1 s; the model runs on
   ``windows_per_block`` windows at a time, and the segments that can no longer change are
   handed to ``on_block`` as soon as their windows are labelled.

Why the whole-recording baseline rather than running statistics (which would let labelling
start with the first block): with running statistics the first minutes would be judged
against a baseline of themselves only and a segment's label would depend on the block size.
The baseline of all the speech keeps every result deterministic, independent of block sizes
and equal to the one-pass analysis; the GUI still gets its waveform after stage 1 (seconds
for an hour) and fills the timeline during stage 3.
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from .errors import SerError
from .features import MIN_DYNAMIC_DB, filter_banks, speech_frames
from .inference import run_model, softmax
from .normalise import masked_stats
from .results import NO_SPEECH, Segment, Timeline, probs_dict
from .stream import (FrameScan, OverviewBuilder, audio_info, iter_blocks, iter_ranges, region_sample_range,
                     regions_features)

_EPS = 1e-7
#: Shares of the progress bar of the stages reading, features and labelling (roughly their
#: measured costs on speech-heavy recordings; BENCHMARKS.md "bench_long").
SHARES = (0.1, 0.55, 0.35)
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
        ``"speaker"`` or ``"global"`` to force one.
    min_baseline_speech : float
    feature_threads : int
        Threads computing the features of speech regions (NumPy's FFTs and products run
        without the GIL); with BLAS limited to one thread each, 2 use both cores of a
        small machine. The result does not depend on it.
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


@dataclasses.dataclass
class BlockUpdate:
    """Progress of :func:`analyse_recording`, passed to ``on_block`` after every block.

    Attributes
    ----------
    stage : str
        ``"reading"`` (decoding, energies, overview), ``"features"`` (speech regions) or
        ``"labelling"`` (model).
    done_seconds : float
        Reading: audio decoded so far. Features: the end of the last region done.
        Labelling: the end of the last final segment.
    total_seconds : float
        The recording's duration (from the file header until the reading stage ends).
    fraction : float
        Overall progress in [0, 1] for one progress bar over both stages.
    new_segments : list of Segment
        Segments final since the previous update (labelling only), in time order; together
        the updates deliver exactly ``Timeline.segments``.
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


def vad_mask(energy, *, config):
    """Frames loud enough for speech, from the whole recording's frame energies (dB): the rule
    of :func:`~ser_engine.features.speech_mask` (within ``speech_top_db`` of the 99th-percentile
    energy, clear of the room's floor and of digital silence). A recording whose loud frames
    are less than :data:`MIN_DYNAMIC_DB` above its quiet ones has no speech at all.

    A speaker more than ``speech_top_db`` below the loudest one is not found (BENCHMARKS.md,
    "bench_vad"): taking frames some dB above the room instead also took louder stretches of
    room tone for speech (a recording's speech doubled, half its labels changed).
    """
    if len(energy) == 0:
        return np.zeros(0, bool)
    floor, ref = np.percentile(energy, [5, 99])
    if ref - floor < MIN_DYNAMIC_DB:
        # steady noise or hum throughout (the relative rule alone would call its loudest
        # moments speech): speech always rises well above its own pauses
        return np.zeros(len(energy), bool)
    return speech_frames(energy, config=config)


def speech_regions(mask, *, config, seg=SegmentConfig()):
    """Frame ranges ``[(lo, hi), ...]`` of speech from a frame mask (:func:`vad_mask`).

    Gaps shorter than ``min_pause`` are filled, regions with less than ``min_speech`` of
    speech frames dropped (counted in the mask, not the span: clicks scattered over half a
    second are not half a second of speech), and each region padded by ``pad``.
    """
    rate = config.frame_rate
    runs = _runs(mask)
    n = len(mask)
    # fill short gaps
    merged = []
    for lo, hi in runs:
        if merged and lo - merged[-1][1] < seg.min_pause * rate:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    voiced = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    kept = [(lo, hi) for lo, hi in merged if voiced[hi] - voiced[lo] >= seg.min_speech * rate]
    pad = int(round(seg.pad * rate))
    out = []
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
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


# -- windows and elements --------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    """Model windows of all speech regions, and the timeline elements they label.

    ``starts[i]``: first frame of window i (a short region's window is centred on it,
    ``short[i]`` its true length); ``region[i]``: its region. ``elements``: ``(lo, hi, w)``
    frame ranges in time order, ``w`` the window index or -1 for no speech.
    """

    starts: np.ndarray
    lengths: np.ndarray
    region: np.ndarray
    elements: list


def plan_windows(regions, n_frames, *, length, hop):
    starts, lengths, region, elements = [], [], [], []
    prev = 0
    for r, (lo, hi) in enumerate(regions):
        if lo > prev:
            elements.append((prev, lo, -1))
        n = hi - lo
        if n <= length:
            s = np.array([lo])
        else:
            s = lo + np.arange(0, n - length + 1, hop)
            if s[-1] + length < hi:
                s = np.append(s, hi - length)
        centres = s + min(n, length) / 2
        bounds = [lo] + [int((a + b) / 2) for a, b in zip(centres[:-1], centres[1:])] + [hi]
        for k, start in enumerate(s):
            elements.append((bounds[k], bounds[k + 1], len(starts)))
            starts.append(int(start))
            lengths.append(min(n, length))
            region.append(r)
        prev = hi
    if prev < n_frames:
        elements.append((prev, n_frames, -1))
    return _Plan(np.array(starts, np.int64), np.array(lengths, np.int64), np.array(region, np.int64), elements)


def _materialise(feats, regions, stats, plan, idx, length):
    """The normalised model input of windows ``idx`` (short ones centred, zero-padded)."""
    out = np.zeros((len(idx), length, len(stats.mean)), np.float32)
    for j, i in enumerate(idx):
        r = plan.region[i]
        s, n = plan.starts[i] - regions[r][0], plan.lengths[i]
        off = (length - n) // 2
        out[j, off:off + n] = (feats[r][s:s + n] - stats.mean) / stats.std
    return out


def _smoothed_logp(logp, region, i, h):
    """Mean log-probability of windows ``i-h..i+h`` of the same region."""
    lo, hi = i, i
    while lo > 0 and i - lo < h and region[lo - 1] == region[i]:
        lo -= 1
    while hi + 1 < len(region) and hi - i < h and region[hi + 1] == region[i]:
        hi += 1
    return logp[lo:hi + 1].mean(axis=0)


class _SegmentBuilder:
    """Turns labelled elements into merged segments, emitting those that are final."""

    def __init__(self, *, labels, temperature, uncertain_below, rate, duration, smooth):
        self.labels = labels
        self.temperature = temperature
        self.uncertain_below = uncertain_below
        self.rate = rate
        self.duration = duration
        self.h = max(int(smooth), 1) // 2
        self.emitted = []
        self._open = None  # [start, end, label, [(dur, probs)]]

    def add(self, lo, hi, label, probs):
        start, end = min(lo / self.rate, self.duration), min(hi / self.rate, self.duration)
        if end <= start:
            return []
        done = []
        if self._open is not None and self._open[2] != label:
            done.append(self._close())
        if self._open is None:
            self._open = [start, end, label, []]
        self._open[1] = end
        if probs is not None:
            self._open[3].append((end - start, probs))
        return done

    def flush(self):
        return [self._close()] if self._open is not None else []

    def _close(self):
        start, end, label, parts = self._open
        self._open = None
        if label == NO_SPEECH:
            return Segment(start, end, label, None, {}, False)
        w = np.array([max(d, 1e-6) for d, _ in parts])
        p = (np.stack([q for _, q in parts]) * w[:, None]).sum(0) / w.sum()
        conf = float(p[self.labels.index(label)])
        return Segment(start, end, label, conf, probs_dict(self.labels, p), conf < self.uncertain_below)


# -- the entry point ---------------------------------------------------------------------


def analyse_recording(predictor, path, *, on_block=None, should_stop=None, config=SegmentConfig(),
                      content_hash=True):
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

    Raises
    ------
    AudioLoadError
        The file cannot be read (one line: the file and the reason).
    AnalysisCancelled
    """
    hasher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ser-hash")
    try:
        with _one_blas_thread():
            return _analyse(predictor, Path(path), on_block, should_stop, config, content_hash, hasher)
    finally:
        # after a cancel or an error the hash is not needed: do not wait for it
        hasher.shutdown(wait=False, cancel_futures=True)


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


def _analyse(predictor, path, on_block, should_stop, config, content_hash, hasher):
    fc = predictor.config
    sr, hop = fc.sample_rate, fc.hop_length
    total = audio_info(path).duration
    mel_bank = predictor.banks[0] if predictor.banks is not None else filter_banks(config=fc)[0]

    def report(stage, done, fraction, new=(), overview=None):
        if on_block is not None:
            on_block(BlockUpdate(stage, float(done), float(total), float(min(max(fraction, 0.0), 1.0)), list(new),
                                 overview))

    def check_stop():
        if should_stop is not None and should_stop():
            raise AnalysisCancelled(path)

    # stage 1: reading (energies, overview)
    scan = FrameScan(config=fc, mel_bank=mel_bank, mel_step=MEL_STEP)
    overview = OverviewBuilder(sr=sr)
    for block in iter_blocks(path, sr=sr, block_seconds=config.block_seconds):
        check_stop()
        overview.add_samples(block)
        scan.feed(block)
        # the header's duration can differ from the decoded one by a hair: never past the stage
        report("reading", scan.n_samples / sr, SHARES[0] * min(scan.n_samples / sr / max(total, 1e-9), 1.0))
    energy, mel = scan.finish()
    n_samples = scan.n_samples
    duration = total = n_samples / sr
    view = overview.build(mel=mel, mel_seconds=MEL_STEP / fc.frame_rate)
    report("reading", duration, SHARES[0], overview=view)
    # the hash reads the file's bytes once more: in the background, beside the features
    sha_future = hasher.submit(file_sha256, path) if content_hash else None

    # stage 2: features of the speech regions
    mask = vad_mask(energy, config=fc)
    regions = speech_regions(mask, config=fc, seg=config)
    # long regions are computed in chunks of at most one block, so memory stays bounded
    block_frames = max(int(config.block_seconds * fc.frame_rate), 1)
    chunks = [(r, a, min(a + block_frames, hi)) for r, (lo, hi) in enumerate(regions)
              for a in range(lo, hi, block_frames)]
    ranges = [region_sample_range(a, b, config=fc, n_samples=n_samples) for _, a, b in chunks]
    parts = [[] for _ in regions]
    speech_frames = sum(hi - lo for lo, hi in regions)
    done_frames = 0
    group, group_samples = [], 0
    pending = collections.deque()  # (chunks, future) of groups being computed, in order

    def collect(wait_all):
        # results are taken in submission order, so parts and progress stay in time order
        nonlocal done_frames
        while pending and (wait_all or len(pending) >= threads or pending[0][1].done()):
            keys, fut = pending.popleft()
            for (r, a, b), X in zip(keys, fut.result()):
                parts[r].append(X)
                done_frames += b - a
            report("features", keys[-1][2] / fc.frame_rate,
                   SHARES[0] + SHARES[1] * done_frames / max(speech_frames, 1))

    def submit():
        nonlocal group, group_samples
        check_stop()
        pieces = [g[1] for g in group]
        pending.append(([g[0] for g in group],
                        pool.submit(regions_features, pieces, config=fc, banks=predictor.banks)))
        group, group_samples = [], 0
        collect(False)

    threads = max(int(config.feature_threads), 1)
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="ser-features") as pool:
        try:
            for c, y in iter_ranges(path, ranges, sr=sr, block_seconds=config.block_seconds):
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
    sha = sha_future.result() if sha_future is not None else None
    feats = [p[0] if len(p) == 1 else np.concatenate(p) for p in parts]
    del parts
    mode = _baseline_mode(config, regions, fc.frame_rate)
    region_masks = [mask[lo:hi] for lo, hi in regions]
    if mode == "speaker":
        try:
            stats = masked_stats(feats, region_masks)
        except ValueError:  # no loud frame inside the regions: take them whole
            stats = masked_stats(feats, [np.ones(hi - lo, bool) for lo, hi in regions])
    else:
        stats = predictor.global_stats

    # stage 3: labelling
    L = predictor.window.length
    plan = plan_windows(regions, len(energy), length=L, hop=predictor.window.hop)
    n_win = len(plan.starts)
    labels = tuple(predictor.labels)
    logp = np.zeros((n_win, len(labels)), np.float64)
    temperature = predictor.bundle.temperature(mode)
    builder = _SegmentBuilder(labels=list(labels), temperature=temperature,
                              uncertain_below=predictor.bundle.uncertain_below, rate=fc.frame_rate,
                              duration=duration, smooth=config.smooth)
    h = builder.h
    last_in_region = _last_in_region(plan.region)
    next_el = 0
    computed = 0
    step = max(int(config.windows_per_block), 1)
    while True:
        if computed < n_win:
            check_stop()
            idx = np.arange(computed, min(computed + step, n_win))
            batch = _materialise(feats, regions, stats, plan, idx, L)
            probs = run_model(predictor.model, batch, batch_size=predictor.batch_size)
            logp[idx] = np.log(np.clip(probs, _EPS, 1.0))
            computed = idx[-1] + 1
        new = []
        while next_el < len(plan.elements):
            lo, hi, w = plan.elements[next_el]
            if w >= 0 and min(w + h, last_in_region[w]) >= computed:
                break  # its smoothing neighbours are not all labelled yet
            if w < 0:
                new += builder.add(lo, hi, NO_SPEECH, None)
            else:
                p = softmax(_smoothed_logp(logp, plan.region, w, h), temperature)
                new += builder.add(lo, hi, labels[int(np.argmax(p))], p)
            next_el += 1
        finished = next_el == len(plan.elements)
        if finished:
            new += builder.flush()
        builder.emitted += new
        done = builder.emitted[-1].end if builder.emitted else 0.0
        frac = SHARES[0] + SHARES[1] + SHARES[2] * (computed / n_win if n_win else 1.0)
        report("labelling", done, 1.0 if finished else frac, new)
        if finished:
            break

    label, conf, probs = _recording_label(logp, plan, mask, labels, temperature)
    return Timeline(path=str(path), duration=duration, segments=builder.emitted, labels=labels,
                    model_id=predictor.bundle.model_id, model_version=predictor.bundle.version,
                    normalisation=mode, label=label, confidence=conf, probabilities=probs,
                    uncertain=conf is not None and conf < predictor.bundle.uncertain_below, sha256=sha,
                    overview=view)


def _last_in_region(region):
    """For each window, the index of the last window of its region."""
    out = np.empty(len(region), np.int64)
    for i in range(len(region) - 1, -1, -1):
        out[i] = i if i == len(region) - 1 or region[i + 1] != region[i] else out[i + 1]
    return out


def _baseline_mode(config, regions, rate):
    if config.baseline in ("speaker", "global"):
        return config.baseline
    if config.baseline != "auto":
        raise ValueError(f"unknown baseline {config.baseline!r}")
    speech = sum(hi - lo for lo, hi in regions) / rate
    return "speaker" if speech >= config.min_baseline_speech else "global"


def _recording_label(logp, plan, mask, labels, temperature):
    """Speech-weighted mean of the window log-probabilities (as the file-level Result); a
    recording without speech is answered "no speech", as :class:`~ser_engine.predictor.Predictor` does."""
    if not len(logp):
        return NO_SPEECH, 1.0, {}
    w = np.array([max(mask[s:s + n].mean(), 1e-3) for s, n in zip(plan.starts, plan.lengths)])
    p = softmax((logp * (w / w.sum())[:, None]).sum(0), temperature)
    k = int(np.argmax(p))
    return labels[k], float(p[k]), probs_dict(labels, p)


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
