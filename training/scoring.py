"""Scoring trained models exactly as the app labels files, under honest baseline conditions.

Every score here goes through the app's labelling core (:mod:`ser_engine.labelling`): the
recording's voice activity and speech regions, 3 s windows, the smoothing of neighbouring
windows, and the recording's answer — each emotion's share of the speech time, the mean of
its speech elements' calibrated probabilities. A :class:`Scores` keeps what comes before
the calibration (the elements' smoothed log-probabilities and their lengths), so a
temperature can be fitted on it and applied exactly as the app applies it.

Speaker baselines are scored the way users meet them, not only the flattering way:
``all`` (all of the speaker's clips, balanced over the eight emotions: the optimistic case
the figures used to report), skewed subsets (``low_arousal``, ``high_arousal``, each
``single_emotion``, a ``random_20`` percent), an ``enrolment`` (the speaker's neutral and
calm clips of one statement, then left out of scoring), and none (``global``). A baseline
from less speech than the app accepts (:data:`~ser_engine.baseline.MIN_BASELINE_SPEECH_S`)
falls back to global statistics, as in the app.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from ser_engine import EMOTIONS
from ser_engine.baseline import MIN_BASELINE_SPEECH_S, speaker_stats
from ser_engine.inference import run_model
from ser_engine.labelling import Labeller, answers, fit_profile_temperature, plan_windows, window_inputs
from ser_engine.segments import SegmentConfig, group_stats, recording_from_features

LOW_AROUSAL = ("neutral", "calm", "sad")
HIGH_AROUSAL = ("angry", "fearful", "surprised")
#: The speaker-baseline conditions of the honest protocol, in report order.
CONDITIONS = ("all", "low_arousal", "high_arousal", "single_emotion", "random_20", "enrolment")
CONDITION_TITLES = {
    "global": "each file alone (global statistics)",
    "all": "speaker baseline from all 60 clips (balanced)",
    "low_arousal": "baseline from low-arousal clips only (neutral, calm, sad)",
    "high_arousal": "baseline from high-arousal clips only (angry, fearful, surprised)",
    "single_emotion": "baseline from one emotion's clips (mean over the eight emotions)",
    "random_20": "baseline from a random 20% of the clips",
    "enrolment": "baseline from an enrolment: neutral and calm clips of one statement (not scored)",
}
#: The conditions early stopping watches (a cheap, honest mix: none, balanced and both skews).
VALIDATION_CONDITIONS = ("global", "all", "low_arousal", "high_arousal")


@dataclasses.dataclass
class Scores:
    """Per recording, the labelling core's output before calibration.

    Attributes
    ----------
    logp : list of np.ndarray [shape=(n_elements_i, n_classes)]
        Smoothed log-probabilities of each speech element (empty for a recording without speech).
    frames : list of np.ndarray [shape=(n_elements_i,)]
        Frames each element stands for.
    """

    logp: list
    frames: list

    def __len__(self):
        return len(self.logp)

    def profiles(self, temperature=1.0):
        """The recordings' answers (share of speech time per class) at ``temperature``;
        a recording without speech is a row of NaN."""
        return answers(self.logp, self.frames, temperature, len(EMOTIONS))

    def predictions(self, temperature=1.0):
        """Each recording's label index (-1 without speech: never right)."""
        p = self.profiles(temperature)
        out = np.full(len(p), -1)
        ok = ~np.isnan(p[:, 0])
        out[ok] = p[ok].argmax(axis=1)
        return out

    def fit_temperature(self, labels):
        return fit_profile_temperature(self.logp, self.frames, np.asarray(labels))

    def take(self, idx):
        return Scores([self.logp[i] for i in idx], [self.frames[i] for i in idx])

    def __add__(self, other):
        return Scores(self.logp + other.logp, self.frames + other.frames)

    def to_json(self, decimals=4):
        return {"logp": [np.round(x, decimals).tolist() for x in self.logp],
                "frames": [np.asarray(f).tolist() for f in self.frames]}

    @classmethod
    def from_json(cls, d):
        return cls([np.asarray(x, np.float64).reshape(-1, len(EMOTIONS)) for x in d["logp"]],
                   [np.asarray(f, np.int64) for f in d["frames"]])

    @classmethod
    def empty(cls, n):
        return cls([np.zeros((0, len(EMOTIONS)))] * n, [np.zeros(0, np.int64)] * n)

    def put(self, idx, other):
        """Set the recordings ``idx`` to ``other``'s (in order)."""
        for j, i in enumerate(idx):
            self.logp[i], self.frames[i] = other.logp[j], other.frames[j]


def nll(scores, labels, temperature=1.0):
    """Mean negative log-likelihood of the true class under the recordings' answers."""
    p = scores.profiles(temperature)
    y = np.asarray(labels)
    ok = ~np.isnan(p[:, 0])
    if not ok.any():
        return float("nan")
    return float(-np.log(np.clip(p[ok, y[ok]], 1e-12, 1.0)).mean())


def accuracy(scores, labels, temperature=1.0):
    return float(np.mean(scores.predictions(temperature) == np.asarray(labels))) if len(scores) else float("nan")


# -- recordings and baselines -------------------------------------------------------------------


def recordings_of(features, cfg, seg=SegmentConfig(), states=None, masks=None):
    """The app's :class:`~ser_engine.segments.Recording` (regions of the speech detector's
    masks, the regions' model frames) of every feature array in ``features`` (same keys);
    ``states`` (same keys) holds their regions' encoder states for an encoder front end.
    ``masks`` (same keys) are the speech masks; not given, they are made from the audio
    (:func:`training.speech.speech_masks`, cached)."""
    if not cfg.front_end.uses_encoder:
        states = None  # a classic model's run may hold states for its teacher (training.teacher)
    elif states is None:
        raise ValueError("an encoder front end needs the recordings' encoder states")
    if masks is None:
        from .speech import MaskCache, speech_masks

        masks = speech_masks(features, config=cfg.feature, cache=MaskCache())
    return {key: recording_from_features(X, masks[key], feature_config=cfg.feature, config=seg,
                                         front_end=cfg.front_end, states=None if states is None else states[key])
            for key, X in features.items() if states is None or key in states}


def baseline_stats(recs, global_stats, cfg):
    """The statistics a speaker baseline made of ``recs`` normalises with, or None when they
    hold too little speech for the app to accept them (it would use global statistics)."""
    raw = group_stats(recs)
    if raw is None or raw.n_frames / cfg.front_end.rate(cfg.feature) < MIN_BASELINE_SPEECH_S:
        return None
    return speaker_stats(raw, global_stats, scale=cfg.speaker_scale)


def condition_subsets(items, condition, *, rng=None):
    """``[(baseline items, scored items), ...]`` of one speaker's ``items`` under ``condition``.

    ``single_emotion`` gives one pair per emotion the speaker has; ``random_20`` draws with
    ``rng`` (default: seeded by the number of items, so the draw repeats).
    """
    emo = np.array([it.emotion for it in items])
    items = list(items)
    if condition == "all":
        return [(items, items)]
    if condition in ("low_arousal", "high_arousal"):
        group = LOW_AROUSAL if condition == "low_arousal" else HIGH_AROUSAL
        return [([it for it, e in zip(items, emo, strict=True) if e in group], items)]
    if condition == "single_emotion":
        return [([it for it, e2 in zip(items, emo, strict=True) if e2 == e], items) for e in EMOTIONS if e in set(emo)]
    if condition == "random_20":
        rng = rng if rng is not None else np.random.default_rng(len(items))
        pick = rng.choice(len(items), max(1, len(items) // 5), replace=False)
        return [([items[i] for i in sorted(pick)], items)]
    if condition == "enrolment":
        first = min(it.statement for it in items)
        enrol = [it for it in items if it.emotion in ("neutral", "calm") and it.statement == first]
        return [(enrol, [it for it in items if it not in enrol])]
    raise ValueError(f"unknown baseline condition {condition!r}")


def by_actor(items):
    out: dict = {}
    for it in items:
        out.setdefault(it.actor, []).append(it)
    return out


# -- scoring ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Prepared:
    """The model inputs of recordings, each under its own normalisation, ready to be scored by
    any model of the same input (validation every epoch, several test conditions)."""

    windows: np.ndarray  # (n_windows, length, n_features)
    plans: list          # per recording: WindowPlan
    durations: list      # per recording: seconds

    def score(self, model, *, smooth, rate, batch_size=256):
        """:class:`Scores` of ``model`` on these recordings, through the app's labeller."""
        probs = run_model(model, self.windows, batch_size=batch_size) if len(self.windows) else np.zeros((0, 8))
        logp = np.log(np.clip(probs, 1e-7, 1.0)).astype(np.float64)
        out_logp, out_frames, k = [], [], 0
        for plan, duration in zip(self.plans, self.durations, strict=True):
            n = plan.n_windows
            lab = Labeller(plan, labels=EMOTIONS, temperature=1.0, uncertain_below=0.0, rate=rate,
                           duration=duration, smooth=smooth)
            lab.add(logp[k:k + n])
            k += n
            out_logp.append(np.array(lab.element_logp).reshape(-1, len(EMOTIONS)))
            out_frames.append(np.array(lab.element_frames, np.int64))
        return Scores(out_logp, out_frames)


def prepare(pairs, cfg):
    """:class:`Prepared` inputs of ``pairs`` = ``[(Recording, FeatureStats), ...]``."""
    windows, plans, durations = [], [], []
    for rec, stats in pairs:
        plan = plan_windows(rec.regions, rec.n_frames, length=cfg.window.length, hop=cfg.window.hop)
        windows.append(window_inputs(rec.feats, rec.regions, stats, plan, np.arange(plan.n_windows),
                                     cfg.window.length))
        plans.append(plan)
        durations.append(rec.duration)
    x = np.concatenate(windows) if windows else np.zeros((0, cfg.window.length, cfg.n_inputs), np.float32)
    return Prepared(x, plans, durations)


def file_scores(model, items, recs, stats_of: Callable, *, cfg, seg=SegmentConfig(), batch_size=256):
    """:class:`Scores` of ``items`` (``recs[item.path]`` their recordings), each normalised by
    ``stats_of(item)``, exactly as the app labels them."""
    prepared = prepare([(recs[it.path], stats_of(it)) for it in items], cfg)
    return prepared.score(model, smooth=seg.smooth, rate=cfg.front_end.rate(cfg.feature), batch_size=batch_size)


@dataclasses.dataclass
class ConditionSet:
    """The scored pairs of one condition for a group of speakers: which item each scored
    recording is (``index`` into the items) and its prepared input."""

    index: np.ndarray
    prepared: Prepared


def condition_set(items, recs, condition, global_stats, cfg, *, rng=None) -> ConditionSet:
    """Every (recording, baseline) pair ``condition`` makes of the speakers of ``items``."""
    position = {it.path: i for i, it in enumerate(items)}
    pairs: list = []
    index: list[int] = []
    for actor_items in by_actor(items).values():
        subsets: list
        if condition == "global":
            subsets = [([], actor_items)]
        else:
            subsets = condition_subsets(actor_items, condition, rng=rng)
        for base, scored in subsets:
            stats = (baseline_stats([recs[it.path] for it in base], global_stats, cfg) if base else None)
            for it in scored:
                pairs.append((recs[it.path], stats if stats is not None else global_stats))
                index.append(position[it.path])
    return ConditionSet(np.array(index, np.int64), prepare(pairs, cfg))


def score_conditions(model, items, recs, global_stats, cfg, conditions: Sequence[str], *, seg=SegmentConfig()):
    """Per condition, ``(index, Scores)`` of ``model`` on the speakers of ``items``."""
    out = {}
    for c in conditions:
        cs = condition_set(items, recs, c, global_stats, cfg)
        out[c] = (cs.index, cs.prepared.score(model, smooth=seg.smooth, rate=cfg.front_end.rate(cfg.feature)))
    return out
