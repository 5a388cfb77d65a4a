"""The one labelling core: from the feature frames of a recording's speech to window
probabilities, merged segments and the recording's answer.

Every way of labelling goes through here — a clip from the window, ``ser predict``, ``ser
batch``, an hour-long session streamed block by block, and training's evaluation and
calibration — so the figures a bundle reports, its temperatures and its "uncertain"
threshold are measured on exactly the computation that labels users' files.

The steps, each a function of its own so that training can batch the model calls of many
recordings and a long recording can emit segments as they become final:

1. :func:`plan_windows`: each speech region is cut into windows (3 s every 1 s; a shorter
   region is one window, centred); each window labels the stretch of its region nearest its
   centre (an *element*); the gaps between regions are "no speech" elements.
2. :func:`window_inputs`: the normalised model input of some windows.
3. :func:`window_log_probs`: the model, in fixed-size batches.
4. :class:`Labeller`: each element's probabilities are the calibrated mean of its window's
   log-probabilities and its neighbours' in the same region (``smooth``); neighbouring
   elements with the same label merge into segments.
5. The recording's answer (:func:`recording_answer`): the **share of speech time** each
   emotion is estimated to take — the time-weighted mean of the elements' calibrated
   probabilities. Its largest share is the recording's label, and that share its
   confidence. For a clip of one utterance this is the probability that the clip is that
   emotion; for a session it is the emotion holding the most speech time. The segments'
   probabilities average to the same profile, so the headline, the bars, the summary chart,
   the exports and the command line all read one answer.
6. A session's own mix of emotions (:meth:`Labeller.adapt_mix`): the model's probabilities
   carry the mix of its training data (nearly even), which pulls a lopsided session towards
   even shares. With enough speech (:data:`MIN_MIX_SPEECH_S`) the recording's own mix is
   estimated from its probabilities (:func:`recording_mix`); when it explains them clearly
   better (:func:`mix_evidence` of at least :data:`MIN_MIX_EVIDENCE`) every element is
   re-weighted by it, segments and answer alike, and the segments streamed before are
   replaced. A clip is too short to move it: training's evaluation and calibration, which
   score clips, are unchanged by it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .inference import run_model
from .results import NO_SPEECH, Segment, probs_dict

_EPS = 1e-7
#: Seconds of speech the training data's mix counts for when a recording's mix is estimated
#: (a Dirichlet prior on the shares): chosen on the validation actors' sessions (bench_honest).
MIX_STRENGTH_S = 0.0
#: Temperature of the probabilities moved to a recording's own mix (Labeller's ``mix_temperature``):
#: chosen on the validation actors' sessions by a rule fixed before the runs (bench_mix_marks,
#: BENCHMARKS.md "Labels a session's own mix made firm"): the calibration error of clips under
#: their session's own mix fell from 0.115 to 0.051 (test actors: 0.119 to 0.050), the lopsided
#: sessions' share distance rose from 0.258 to 0.263 (test 0.256 to 0.260). Labels do not change.
MIX_TEMPERATURE = 1.5
#: Speech (seconds, one speaker's) below which a recording keeps the training data's mix.
MIN_MIX_SPEECH_S = 30.0
#: How much better (:func:`mix_evidence`) a recording's own mix must explain its speech than the
#: training data's before it is used, in all (none: the validation actors' sessions in
#: bench_honest chose the rate below alone) ...
MIN_MIX_EVIDENCE = float("-inf")
#: ... and per second of its speech: a model's small bias on balanced speech adds evidence in
#: proportion to a session's length, a lopsided session's far faster (chosen with the above).
MIN_MIX_EVIDENCE_RATE = 0.4


@dataclasses.dataclass
class WindowPlan:
    """Model windows of all speech regions of a recording, and the elements they label.

    Attributes
    ----------
    starts : np.ndarray [shape=(n_windows,), dtype=int64]
        First frame of each window (a short region's window is centred on it).
    lengths : np.ndarray [shape=(n_windows,), dtype=int64]
        Frames of the region inside each window (the window length, or less for a short region).
    region : np.ndarray [shape=(n_windows,), dtype=int64]
        The region of each window.
    elements : list of (lo, hi, w)
        Frame ranges covering the recording in time order; ``w`` is the window that labels
        the range, or -1 for no speech.
    """

    starts: np.ndarray
    lengths: np.ndarray
    region: np.ndarray
    elements: list

    @property
    def n_windows(self) -> int:
        return len(self.starts)


def plan_windows(regions: Sequence[tuple[int, int]], n_frames: int, *, length: int, hop: int) -> WindowPlan:
    """Cut speech regions ``[(lo, hi), ...]`` (sorted, disjoint, frame units) into windows.

    A region of at most ``length`` frames is one window; a longer one gets windows every
    ``hop`` frames plus one ending exactly at its end. Each window labels the frames of its
    region nearer to its centre than to its neighbours'.
    """
    starts: list[int] = []
    lengths: list[int] = []
    region: list[int] = []
    elements: list[tuple[int, int, int]] = []
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
        bounds = [lo] + [int((a + b) / 2) for a, b in zip(centres[:-1], centres[1:], strict=True)] + [hi]
        for k, start in enumerate(s):
            elements.append((bounds[k], bounds[k + 1], len(starts)))
            starts.append(int(start))
            lengths.append(min(n, length))
            region.append(r)
        prev = hi
    if prev < n_frames:
        elements.append((prev, n_frames, -1))
    return WindowPlan(np.array(starts, np.int64), np.array(lengths, np.int64), np.array(region, np.int64), elements)


def window_inputs(feats: Sequence[np.ndarray], regions: Sequence[tuple[int, int]], stats: Any, plan: WindowPlan,
                  idx: np.ndarray, length: int) -> np.ndarray:
    """The normalised model input of windows ``idx``.

    Parameters
    ----------
    feats : list of np.ndarray [shape=(hi - lo, n_features)]
        Raw feature frames of each region.
    stats : FeatureStats, or a sequence of them (one per region)
        The normalisation (global, or a speaker baseline); per region when the regions are
        speaker turns, each normalised by its own speaker's baseline.

    Returns
    -------
    x : np.ndarray [shape=(len(idx), length, n_features), dtype=float32]
        Short regions centred and zero-padded (zero is the mean after normalisation).
    """
    per_region = not hasattr(stats, "mean")
    first = (stats[0] if len(stats) else None) if per_region else stats
    out = np.zeros((len(idx), length, 0 if first is None else len(first.mean)), np.float32)
    for j, i in enumerate(idx):
        r = plan.region[i]
        st = stats[r] if per_region else stats
        s, n = plan.starts[i] - regions[r][0], plan.lengths[i]
        off = (length - n) // 2
        out[j, off:off + n] = (feats[r][s:s + n] - st.mean) / st.std
    return out


def window_log_probs(model: Any, windows: np.ndarray, *, batch_size: int) -> np.ndarray:
    """Log-probabilities of the model's classes for each window.

    Returns
    -------
    logp : np.ndarray [shape=(n_windows, n_classes), dtype=float64]
    """
    return np.log(np.clip(run_model(model, windows, batch_size=batch_size), _EPS, 1.0)).astype(np.float64)


def calibrated(logp: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities from (mean) log-probabilities, temperature-scaled along the last axis."""
    z = np.asarray(logp, np.float64) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def smoothed_log_probs(logp: np.ndarray, region: np.ndarray, i: int, h: int) -> np.ndarray:
    """Mean log-probability of windows ``i-h..i+h`` that belong to window ``i``'s region."""
    lo, hi = i, i
    while lo > 0 and i - lo < h and region[lo - 1] == region[i]:
        lo -= 1
    while hi + 1 < len(region) and hi - i < h and region[hi + 1] == region[i]:
        hi += 1
    return logp[lo:hi + 1].mean(axis=0)


def last_in_region(region: np.ndarray) -> np.ndarray:
    """For each window, the index of the last window of its region."""
    out = np.empty(len(region), np.int64)
    for i in range(len(region) - 1, -1, -1):
        out[i] = i if i == len(region) - 1 or region[i + 1] != region[i] else out[i + 1]
    return out


@dataclasses.dataclass(frozen=True)
class Answer:
    """A recording's answer: each emotion's estimated share of its speech time.

    ``label`` is the emotion with the largest share (:data:`~ser_engine.results.NO_SPEECH`
    when the recording has none), ``confidence`` that share, ``uncertain`` True when it is
    below the bundle's threshold.
    """

    label: str
    confidence: float | None
    probabilities: dict
    uncertain: bool


def recording_answer(probs: np.ndarray, durations: np.ndarray, labels: Sequence[str],
                     uncertain_below: float) -> Answer:
    """The :class:`Answer` from the calibrated probabilities of the speech elements.

    Parameters
    ----------
    probs : np.ndarray [shape=(n_elements, n_classes)]
    durations : np.ndarray [shape=(n_elements,)]
        Frames (or seconds) each element stands for.
    """
    profile = share_profile(probs, durations)
    if profile is None:
        return Answer(NO_SPEECH, None, {}, False)
    k = int(np.argmax(profile))
    conf = float(profile[k])
    return Answer(labels[k], conf, probs_dict(labels, profile), conf < uncertain_below)


def share_profile(probs: np.ndarray, durations: np.ndarray) -> np.ndarray | None:
    """Time-weighted mean of element probabilities: the estimated share of speech time per
    class (None without speech)."""
    d = np.asarray(durations, np.float64)
    if len(d) == 0 or d.sum() <= 0:
        return None
    return (np.asarray(probs, np.float64) * d[:, None]).sum(axis=0) / d.sum()


def recording_mix(probs: np.ndarray, durations: np.ndarray, train_mix: np.ndarray, *, strength: float,
                  iterations: int = 500) -> np.ndarray:
    """A recording's own mix of emotions: the prior under which its elements' probabilities are
    most likely (expectation-maximisation; Saerens, Latinne & Decaestecker 2002, "Adjusting
    the outputs of a classifier to new a priori probabilities").

    Parameters
    ----------
    probs : np.ndarray [shape=(n_elements, n_classes)]
        Calibrated probabilities under the training data's mix.
    durations : np.ndarray [shape=(n_elements,)]
        What each element weighs (frames or seconds).
    train_mix : np.ndarray [shape=(n_classes,)]
        The training data's share of each class (the prior ``probs`` were learnt under).
    strength : float
        What the training mix counts for, in the units of ``durations``: a short recording
        stays near it, a long one speaks for itself (0: maximum likelihood).

    Returns
    -------
    mix : np.ndarray [shape=(n_classes,)]
    """
    d = np.asarray(durations, np.float64)
    q = np.asarray(train_mix, np.float64)
    mix = q
    for _ in range(iterations):
        new = (d @ reweighted(probs, mix, q) + strength * q) / (d.sum() + strength)
        done = np.abs(new - mix).max() < 1e-7
        mix = new
        if done:
            break
    return mix


def mix_evidence(probs: np.ndarray, seconds: np.ndarray, mix: np.ndarray, train_mix: np.ndarray) -> float:
    """How much better ``mix`` explains a recording's speech than the training data's mix: the
    log-likelihood ratio, each element's ``log sum_k p_k mix_k / train_k`` weighted by its
    seconds (nats x seconds; 0 when the mixes are equal). A balanced recording's estimated mix
    wins a little by chance, a lopsided one's a lot; long recordings' more, as they should."""
    ratio = np.maximum(np.asarray(probs, np.float64), 1e-12) @ (np.asarray(mix, np.float64) / np.asarray(train_mix))
    return float(np.asarray(seconds, np.float64) @ np.log(ratio))


def mix_passes(evidence: float, seconds: float, *, min_evidence: float, min_rate: float) -> bool:
    """Whether a recording's own mix is used: its :func:`mix_evidence` reaches ``min_evidence``
    in all and ``min_rate`` per second of its ``seconds`` of speech (NaN evidence never does)."""
    return bool(evidence >= min_evidence and evidence >= min_rate * seconds)


def reweighted(probs: np.ndarray, mix: np.ndarray, train_mix: np.ndarray) -> np.ndarray:
    """Probabilities learnt under ``train_mix`` moved to a recording whose mix is ``mix`` (Bayes)."""
    w = np.maximum(np.asarray(probs, np.float64), 1e-12) * (np.asarray(mix, np.float64) / np.asarray(train_mix))
    return w / w.sum(axis=-1, keepdims=True)


class Labeller:
    """Turns a recording's window log-probabilities into segments and its answer.

    Windows may arrive in batches (:meth:`add`), in order; each call returns the segments
    that no later window changes (their elements' smoothing neighbours are all labelled and a
    different label follows), so a long recording's timeline fills while it is labelled.
    Fed all windows at once, it gives the same segments. :meth:`adapt_mix`, once all are
    labelled, may replace them all.

    Parameters
    ----------
    plan : WindowPlan
    labels : sequence of str
    temperature : float, or a sequence of floats (one per region of the plan)
        Calibration of the element probabilities (per region when speakers' regions are
        normalised differently: a baseline's temperature is not the global one's).
    uncertain_below : float
    rate : float
        Frames per second of the plan's frame units.
    duration : float
        The recording's length in seconds (element ends are clipped to it).
    smooth : int
        Windows (odd) whose log-probabilities are averaged around each window (1: off).
    speakers : sequence of int or None
        The speaker of each region of the plan (speaker turns): a segment never spans two
        speakers, and :meth:`answer` can answer for one speaker.
    mix_firms : bool
        Whether a recording's own mix (:meth:`adapt_mix`) may make a segment firm. False: a
        segment is also uncertain when its label's probability under the training data's mix
        (what its speech alone says) is below ``uncertain_below``, so the mix can mark labels
        uncertain but never lift the mark.
    mix_temperature : float
        Temperature of an element's probabilities once moved to a recording's own mix (1: as
        moved). The mix is estimated from the same speech it then re-reads, so the moved
        probabilities are too sure of themselves; a temperature above 1 softens them (labels
        stay, confidences and shares move towards even).
    """

    def __init__(self, plan: WindowPlan, *, labels: Sequence[str], temperature: float | Sequence[float],
                 uncertain_below: float, rate: float, duration: float, smooth: int,
                 speakers: Sequence[int] | None = None, mix_firms: bool = True,
                 mix_temperature: float = MIX_TEMPERATURE):
        self.plan = plan
        self.labels = list(labels)
        self.temperature: float | list[float] = (list(temperature) if isinstance(temperature, Sequence)
                                                  else float(temperature))
        self.speakers = None if speakers is None else list(speakers)
        self.uncertain_below = float(uncertain_below)
        self.mix_firms = bool(mix_firms)
        self.mix_temperature = float(mix_temperature)
        self.rate = float(rate)
        self.duration = float(duration)
        self.h = max(int(smooth), 1) // 2
        self.logp = np.zeros((plan.n_windows, len(self.labels)), np.float64)
        self.computed = 0
        self.segments: list[Segment] = []
        #: smoothed log-probabilities and frames of each speech element, in time order; frames
        #: (not seconds clipped to the file's end) weigh them, so a recording known only by its
        #: features (training's evaluation) gets exactly the answer its file gets
        self.element_logp: list[np.ndarray] = []
        self.element_frames: list[int] = []
        self.element_speaker: list[int | None] = []
        self.element_temperature: list[float] = []
        #: the mix of emotions each speech element's probabilities are moved to (None: the
        #: training data's), set by :meth:`adapt_mix`; per speaker, the mix it estimated
        self.element_mix: list[np.ndarray | None] = []
        self.mixes: dict = {}
        self.evidence: dict = {}
        self.speech_seconds: dict = {}
        self._train_mix: np.ndarray | None = None
        #: every element emitted, in time order: (lo, hi, speech element index or -1)
        self._emitted: list[tuple[int, int, int]] = []
        self._last = last_in_region(plan.region)
        self._next = 0
        self._open: list | None = None  # [start, end, label, [(frames, probs, probs alone)], speaker]

    @property
    def finished(self) -> bool:
        return self._next == len(self.plan.elements)

    def add(self, logp: np.ndarray) -> list[Segment]:
        """Log-probabilities of the next ``len(logp)`` windows; returns the segments now final."""
        n = len(logp)
        self.logp[self.computed:self.computed + n] = logp
        self.computed += n
        done: list[Segment] = []
        elements = self.plan.elements
        while self._next < len(elements):
            lo, hi, w = elements[self._next]
            if w >= 0 and min(w + self.h, self._last[w]) >= self.computed:
                break  # its smoothing neighbours are not all labelled yet
            if lo / self.rate >= self.duration:
                pass  # a frame past the end of the file (its centre beyond the last sample)
            elif w < 0:
                self._emitted.append((lo, hi, -1))
                done += self._emit(lo, hi, -1)
            else:
                r = int(self.plan.region[w])
                t = self.temperature[r] if isinstance(self.temperature, list) else self.temperature
                self.element_logp.append(smoothed_log_probs(self.logp, self.plan.region, w, self.h))
                self.element_frames.append(hi - lo)
                self.element_speaker.append(None if self.speakers is None else self.speakers[r])
                self.element_temperature.append(float(t))
                self.element_mix.append(None)
                self._emitted.append((lo, hi, len(self.element_logp) - 1))
                done += self._emit(lo, hi, len(self.element_logp) - 1)
            self._next += 1
        if self.finished and self._open is not None:
            done.append(self._close())
        self.segments += done
        return done

    def answer(self, speaker: int | None = None) -> Answer:
        """The recording's :class:`Answer`, or one speaker's (all windows must have been added)."""
        if not self.finished:
            raise RuntimeError("the answer needs every window's log-probabilities")
        keep = [i for i, k in enumerate(self.element_speaker) if speaker is None or k == speaker]
        if not keep:
            return recording_answer(np.zeros((0, 1)), np.zeros(0), self.labels, self.uncertain_below)
        probs = np.stack([self.element_probs(i) for i in keep])
        frames = np.array([self.element_frames[i] for i in keep])
        return recording_answer(probs, frames, self.labels, self.uncertain_below)

    def element_probs(self, i: int) -> np.ndarray:
        """Speech element ``i``'s calibrated probabilities, under its recording's mix once
        :meth:`adapt_mix` estimated one."""
        p = calibrated(self.element_logp[i], self.element_temperature[i])
        mix = self.element_mix[i]
        if mix is None or self._train_mix is None:
            return p
        moved = reweighted(p, mix, self._train_mix)
        return moved if self.mix_temperature == 1.0 else calibrated(np.log(np.clip(moved, _EPS, 1.0)),
                                                                     self.mix_temperature)

    def adapt_mix(self, train_mix: Sequence[float] | np.ndarray, *, strength_seconds: float = MIX_STRENGTH_S,
                  min_seconds: float = MIN_MIX_SPEECH_S, min_evidence: float = MIN_MIX_EVIDENCE,
                  min_evidence_rate: float = MIN_MIX_EVIDENCE_RATE) -> dict:
        """Estimate the recording's own mix of emotions (each speaker's, with speaker turns) from
        its speech, where it holds at least ``min_seconds``, and move every element there
        (:func:`recording_mix`) when the speech is better explained by it than by the training
        data's mix by at least ``min_evidence`` (:func:`mix_evidence`) and ``min_evidence_rate``
        per second of speech; the segments are merged
        again and :meth:`answer` follows. All windows must have been added.

        Returns
        -------
        mixes : dict
            Speaker (None: the whole recording) -> the estimated mix (shape ``(n_classes,)``),
            for each part that moved to it; also kept as :attr:`mixes`. :attr:`evidence` has
            the evidence of every part that had enough speech, moved or not.
        """
        if not self.finished:
            raise RuntimeError("a recording's mix needs every window's log-probabilities")
        self._train_mix = np.asarray(train_mix, np.float64)
        groups: dict = {}
        for i, k in enumerate(self.element_speaker):
            groups.setdefault(k, []).append(i)
        moved = any(m is not None for m in self.element_mix)
        self.mixes, self.evidence, self.speech_seconds = {}, {}, {}
        self.element_mix = [None] * len(self.element_mix)  # a second call starts from the training mix
        for k, idx in groups.items():
            frames = np.array([self.element_frames[i] for i in idx], np.float64)
            seconds = float(frames.sum() / self.rate)
            if seconds < min_seconds:
                continue
            probs = np.stack([calibrated(self.element_logp[i], self.element_temperature[i]) for i in idx])
            mix = recording_mix(probs, frames, self._train_mix, strength=strength_seconds * self.rate)
            self.evidence[k] = mix_evidence(probs, frames / self.rate, mix, self._train_mix)
            self.speech_seconds[k] = seconds
            if not mix_passes(self.evidence[k], seconds, min_evidence=min_evidence, min_rate=min_evidence_rate):
                continue
            for i in idx:
                self.element_mix[i] = mix
            self.mixes[k] = mix
        if self.mixes or moved:
            self._merge_again()
        return self.mixes

    def _emit(self, lo: int, hi: int, i: int) -> list[Segment]:
        """Element ``[lo, hi)`` into the open segment: no speech (``i`` < 0) or speech element ``i``."""
        if i < 0:
            return self._extend(lo, hi, NO_SPEECH, None, None)
        p = self.element_probs(i)
        alone = (None if self.mix_firms or self.element_mix[i] is None  # only mix_firms=False reads them
                 else calibrated(self.element_logp[i], self.element_temperature[i]))
        return self._extend(lo, hi, self.labels[int(np.argmax(p))], p, self.element_speaker[i], alone)

    def _merge_again(self) -> None:
        """The segments from every element again (after their probabilities moved)."""
        self._open = None
        segments: list[Segment] = []
        for lo, hi, i in self._emitted:
            segments += self._emit(lo, hi, i)
        if self._open is not None:
            segments.append(self._close())
        self.segments = segments

    def _extend(self, lo: int, hi: int, label: str, probs: np.ndarray | None, speaker: int | None,
                alone: np.ndarray | None = None) -> list[Segment]:
        """Element ``[lo, hi)`` into the open segment; ``alone``: its probabilities under the
        training data's mix when a recording's mix moved them (None: ``probs`` are those)."""
        start, end = min(lo / self.rate, self.duration), min(hi / self.rate, self.duration)
        done = []
        if self._open is not None and (self._open[2] != label or self._open[4] != speaker):
            done.append(self._close())
        if self._open is None:
            self._open = [start, end, label, [], speaker]
        self._open[1] = end
        if probs is not None:  # weighed in frames, as the answer weighs it
            self._open[3].append((hi - lo, probs, probs if alone is None else alone))
        return done

    def _close(self) -> Segment:
        assert self._open is not None
        start, end, label, parts, speaker = self._open
        self._open = None
        if label == NO_SPEECH:
            return Segment(start, end, label, None, {}, False)
        w = np.array([d for d, _, _ in parts], np.float64)
        p = (np.stack([q for _, q, _ in parts]) * w[:, None]).sum(0) / w.sum()
        k = self.labels.index(label)
        conf = float(p[k])
        uncertain = conf < self.uncertain_below
        if not self.mix_firms:  # what the speech alone says of this label
            uncertain |= float((np.stack([a[k] for _, _, a in parts]) * w).sum() / w.sum()) < self.uncertain_below
        return Segment(start, end, label, conf, probs_dict(self.labels, p), uncertain, speaker)


def label_windows(model: Any, feats: Sequence[np.ndarray], regions: Sequence[tuple[int, int]], stats: Any,
                  labeller: Labeller, *, length: int, batch_size: int, windows_per_block: int,
                  on_segments: Callable[[list[Segment], float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> Labeller:
    """Run the model over every window of ``labeller.plan``, ``windows_per_block`` at a time,
    feeding the labeller; ``on_segments(new_segments, fraction_done)`` after every block.
    ``should_stop`` is polled before every block (True: returns early, unfinished)."""
    plan = labeller.plan
    n = plan.n_windows
    step = max(int(windows_per_block), 1)
    start = 0
    while True:
        if should_stop is not None and should_stop():
            return labeller
        idx = np.arange(start, min(start + step, n))
        logp = (window_log_probs(model, window_inputs(feats, regions, stats, plan, idx, length),
                                 batch_size=batch_size) if len(idx) else np.zeros((0, len(labeller.labels))))
        new = labeller.add(logp)
        start += len(idx)
        if on_segments is not None:
            on_segments(new, start / n if n else 1.0)
        if labeller.finished:
            return labeller


def fit_profile_temperature(element_logp: Sequence[np.ndarray], element_frames: Sequence[np.ndarray],
                            labels: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature that minimises the negative log-likelihood of recordings' answers.

    Parameters
    ----------
    element_logp : list of np.ndarray [shape=(n_elements_i, n_classes)]
        Per recording, its speech elements' smoothed log-probabilities (:attr:`Labeller.element_logp`).
    element_frames : list of np.ndarray [shape=(n_elements_i,)]
    labels : np.ndarray [shape=(n_recordings,)]
        The true class of each recording (one emotion per recording, as in training data).
    """
    from scipy.optimize import minimize_scalar

    keep = [i for i, e in enumerate(element_logp) if len(e)]
    if not keep:
        return 1.0

    def nll(log_t):
        t = float(np.exp(log_t))
        total = 0.0
        for i in keep:
            p = share_profile(calibrated(element_logp[i], t), element_frames[i])
            assert p is not None  # kept recordings have speech
            total -= np.log(max(float(p[labels[i]]), 1e-12))
        return total / len(keep)

    res = minimize_scalar(nll, bounds=tuple(np.log(bounds)), method="bounded")
    return float(np.exp(res.x))


def answers(element_logp: Sequence[np.ndarray], element_frames: Sequence[np.ndarray],
            temperature: float, n_classes: int) -> np.ndarray:
    """Share profiles of many recordings at ``temperature`` (NaN rows for no speech).

    Returns
    -------
    profiles : np.ndarray [shape=(n_recordings, n_classes)]
    """
    out = np.full((len(element_logp), n_classes), np.nan)
    for i, (e, d) in enumerate(zip(element_logp, element_frames, strict=True)):
        if len(e):
            out[i] = share_profile(calibrated(e, temperature), d)
    return out
