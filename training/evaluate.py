"""Speaker-independent k-fold cross-validation by actor, scored as the app labels files.

Each fold's test actors are never seen in training; early stopping uses validation actors
taken from the training actors. Every test recording goes through the app's labelling core
(:mod:`training.scoring`) under each baseline condition of the honest protocol: alone
(global statistics), with a baseline from all of its speaker's clips (balanced: the
optimistic case), from skewed subsets (low or high arousal only, a single emotion, a random
fifth) and from an enrolment (neutral and calm clips of one statement, then not scored).
Calibration temperatures are fitted on the pooled out-of-fold answers: one for global
statistics, one for speaker baselines (pooled over every baseline condition, since users'
baselines come in every kind).
"""

import contextlib
import dataclasses
import logging
import time

import numpy as np

from ser_engine import EMOTIONS

from .cache import noise_key
from .metrics import expected_calibration_error, summarise
from .scoring import CONDITION_TITLES, CONDITIONS, Scores, recordings_of, score_conditions
from .distributed import fit_members, member_tasks
from .train import ensemble_of, validation_score, validation_set, version_recordings

logger = logging.getLogger(__name__)

MODES = ("global", "speaker")
MODE_TITLES = {"global": "each file alone", "speaker": "with speaker baseline (all of the speaker's clips)"}
#: The condition each mode's headline figures are read from.
MODE_CONDITION = {"global": "global", "speaker": "all"}


def actor_folds(actors, k):
    """Split actors into ``k`` folds, alternating so each fold mixes male (odd) and female (even)."""
    actors = sorted(actors)
    if not 2 <= k <= len(actors):
        raise ValueError(f"{k} folds need between 2 and {len(actors)} actors")
    return [actors[i::k] for i in range(k)]


def pick_validation(actors, n):
    """``n`` validation actors from the training actors, alternating sexes, spread out."""
    actors = sorted(actors)
    odd = [a for a in actors if a % 2]
    even = [a for a in actors if not a % 2]
    picked = []
    while len(picked) < n and (odd or even):
        for group in (odd, even):
            if group and len(picked) < n:
                picked.append(group.pop(len(group) // 2))
    return sorted(picked)


def mode_of(condition):
    """The normalisation mode (calibration temperature) of a condition."""
    return "global" if condition == "global" or condition.endswith(":global") else "speaker"


@dataclasses.dataclass
class OutOfFold:
    """Out-of-fold scores of one condition: which item each scored recording is (a skewed
    condition may score an item once per baseline), its fold, and its :class:`Scores`."""

    index: np.ndarray
    fold: np.ndarray
    scores: Scores

    @classmethod
    def join(cls, parts):
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), Scores([], []))
        scores = parts[0][2]
        for p in parts[1:]:
            scores = scores + p[2]
        return cls(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), scores)

    def to_json(self):
        return {"index": self.index.tolist(), "fold": self.fold.tolist(), "scores": self.scores.to_json()}

    @classmethod
    def from_json(cls, d):
        return cls(np.array(d["index"], np.int64), np.array(d["fold"], np.int64), Scores.from_json(d["scores"]))


@dataclasses.dataclass
class CVResult:
    folds: list          # per fold: dict(test_actors, val_actors, best_epoch, val_accuracy, seconds, ...)
    oof: dict            # condition -> OutOfFold (conditions "global", CONDITIONS, and "snr<N>:<condition>")
    labels: np.ndarray   # per item
    temperatures: dict   # mode -> float
    summary: dict        # "global"/"speaker": full metrics; "conditions": condition -> accuracy
    histories: list      # per fold: list of EpochLog
    models: list = dataclasses.field(default_factory=list)  # per fold (keep_models): the TrainedModel

    @property
    def best_epochs(self):
        return [f["best_epoch"] for f in self.folds]

    def probabilities(self, condition):
        """The calibrated answers of a condition's out-of-fold recordings, and their labels."""
        o = self.oof[condition]
        p = o.scores.profiles(self.temperatures[mode_of(condition)])
        ok = ~np.isnan(p[:, 0])  # a recording without speech has no answer to be calibrated
        return p[ok], self.labels[o.index][ok]

    def speaker_probabilities(self):
        """Calibrated answers and labels pooled over every speaker-baseline condition."""
        parts = [self.probabilities(c) for c in self.oof if c in CONDITIONS]
        return np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts])


def cross_validate(dataset, features, cfg, *, progress=None, should_stop=None, only_folds=None, noisy_snrs=(),
                   copies=(), conditions=CONDITIONS, keep_models=False, states=None, recs=None, runner=None):
    """Run k-fold speaker-independent CV.

    Parameters
    ----------
    dataset : Dataset
    features : dict
        ``path -> raw features``, and ``(path, key) -> features`` of augmented copies.
    cfg : TrainConfig  (``cfg.folds`` folds)
    progress : callable(event: dict) or None
        Called with ``{"phase": "fold", "fold": i, "folds": k, "epoch": EpochLog}``.
    only_folds : iterable of int or None
        Run only these folds (for quick experiments; the summary then covers only them).
    noisy_snrs : iterable of float
        Also score every fold's model on the noisy copies of its test and validation files
        at these SNRs (``features[(path, noise_key(snr))]``, never trained on unless
        ``cfg.noise_snrs`` has them), alone and with a baseline of all the copies.
    copies : iterable of str
        The same for other copies, by their ``features`` key part (e.g.
        ``channel_key("room")``): conditions ``"<key>:global"``/``"<key>:all"`` and the
        validation figure ``val_accuracy_extra[key]``.
    conditions : sequence of str
        The speaker-baseline conditions scored besides "global" (:data:`~training.scoring.CONDITIONS`).
    keep_models : bool
        Keep each fold's trained model (``CVResult.models``), e.g. to label sessions built
        from its test actors through the app's whole path.
    states : dict or None
        Encoder states of the recordings' speech regions (same keys as ``features``), for an
        encoder front end (:func:`~training.cache.extract_encoder_states`).
    recs : dict or None
        The recordings of ``features`` (:func:`~training.scoring.recordings_of`), when already made.
    runner : ClusterRunner or None
        Where the models are trained (:mod:`training.distributed`): every fold's members one
        after the other in this process by default; on a Dask cluster, all of them at once.
        Either way each fold is scored here, in order, as soon as its members are trained.

    Returns
    -------
    CVResult
    """
    items = dataset.items
    labels = np.array([it.label for it in items])
    folds = actor_folds(dataset.actors, cfg.folds)
    recs = recs if recs is not None else recordings_of(features, cfg, states=states)
    conds = ("global",) + tuple(conditions)
    parts = {}
    fold_logs, histories, models = [], [], []
    plans, tasks = [], []
    for i, test_actors in enumerate(folds):
        if only_folds is not None and i not in only_folds:
            continue
        rest = [a for a in dataset.actors if a not in test_actors]
        val_actors = pick_validation(rest, min(cfg.val_actors, len(rest) - 1))
        tr = [it for it in items if it.actor in rest and it.actor not in val_actors]
        va = [it for it in items if it.actor in val_actors]
        plans.append((i, test_actors, val_actors, va))
        tasks += member_tasks(tr, va, cfg, seed=cfg.seed + i, event={"phase": "fold", "fold": i + 1, "folds": len(folds)},
                              start=len(tasks), states=states)

    def on_epoch(task, log):
        if progress:
            progress({**task.event, "epoch": log})

    # Every fold's members in one stream: on a cluster they all train at once, and each fold is
    # scored here as soon as its own are back.
    fits = fit_members(tasks, recs, on_epoch=on_epoch, should_stop=should_stop, runner=runner)
    with contextlib.closing(fits):
        for i, test_actors, val_actors, va in plans:
            t0 = time.perf_counter()
            tm = ensemble_of([next(fits) for _ in range(cfg.ensemble)])
            idx = np.array([j for j, it in enumerate(items) if it.actor in test_actors])
            te = [items[j] for j in idx]
            for c, (local, sc) in score_conditions(tm.model, te, recs, tm.global_stats, cfg, conds).items():
                parts.setdefault(c, []).append((idx[local], np.full(len(local), i), sc))
            val_extra = {}
            for key in [noise_key(snr) for snr in noisy_snrs] + list(copies):
                heard = version_recordings(te, recs, key)
                noisy = [it for it in te if it.path in heard]
                pos = np.array([j for j, it in zip(idx, te) if it.path in heard], np.int64)
                for c, (local, sc) in score_conditions(tm.model, noisy, heard, tm.global_stats, cfg,
                                                       ("global", "all")).items():
                    parts.setdefault(f"{key}:{c}", []).append((pos[local], np.full(len(local), i), sc))
                if va:
                    val_copies = version_recordings(va, recs, key)
                    vnoisy = [it for it in va if it.path in val_copies]
                    vset = validation_set(vnoisy, val_copies, tm.global_stats, cfg)
                    val_extra[key] = validation_score(tm.model, vnoisy, vset, cfg)[1]
            # The fold's final model (the whole ensemble, not one member) on its validation actors:
            # the score the accuracy benchmark chooses levers on.
            val_accuracy = (validation_score(tm.model, va, validation_set(va, recs, tm.global_stats, cfg), cfg)[1]
                            if va else None)
            fold_logs.append({"fold": i + 1, "test_actors": test_actors, "val_actors": val_actors,
                              "best_epoch": tm.best_epoch, "epochs_run": len(tm.history), "val_accuracy": val_accuracy,
                              "val_accuracy_extra": val_extra, "seconds": time.perf_counter() - t0})
            histories.append(tm.history)
            logger.info("fold %d/%d done in %.0f s", i + 1, len(folds), fold_logs[-1]["seconds"])
            if keep_models:
                models.append(tm)
            del tm
    oof = {c: OutOfFold.join(p) for c, p in parts.items()}
    temps = {"global": oof["global"].scores.fit_temperature(labels[oof["global"].index])}
    speaker = [oof[c] for c in conditions if c in oof]
    if speaker:
        pooled = OutOfFold.join([(o.index, o.fold, o.scores) for o in speaker])
        temps["speaker"] = pooled.scores.fit_temperature(labels[pooled.index])
    else:
        temps["speaker"] = temps["global"]
    cv = CVResult(fold_logs, oof, labels, temps, {}, histories, models)
    cv.summary = summarise_cv(cv)
    for f in fold_logs:
        k = f["fold"] - 1
        f["metrics"] = {m: {"accuracy": _accuracy_in_fold(cv, MODE_CONDITION[m], k)} for m in MODES}
    return cv


def _accuracy_in_fold(cv, condition, fold):
    o = cv.oof[condition]
    sel = o.fold == fold
    pred = o.scores.take(np.flatnonzero(sel)).predictions(cv.temperatures[mode_of(condition)])
    return float(np.mean(pred == cv.labels[o.index[sel]]))


def condition_accuracy(cv, condition):
    """Accuracy of one condition's calibrated answers: per fold, mean and std over folds."""
    o = cv.oof[condition]
    pred = o.scores.predictions(cv.temperatures[mode_of(condition)])
    right = pred == cv.labels[o.index]
    per_fold = np.array([right[o.fold == f].mean() for f in np.unique(o.fold)])
    return {"mean": float(per_fold.mean()), "std": float(per_fold.std(ddof=1)) if len(per_fold) > 1 else 0.0,
            "folds": per_fold.tolist(), "n_scored": int(len(right))}


def summarise_cv(cv):
    """Full metrics of the two modes' headline conditions, and the accuracy of every condition."""
    summary = {}
    for m in MODES:
        c = MODE_CONDITION[m]
        if c in cv.oof:
            summary[m] = _summarise_mode(cv, c, m)
    summary["conditions"] = {c: {"title": CONDITION_TITLES.get(c.split(":")[-1], c), **condition_accuracy(cv, c)}
                             for c in cv.oof}
    return summary


def _summarise_mode(cv, condition, mode):
    o = cv.oof[condition]
    t = cv.temperatures[mode]
    y = cv.labels[o.index]
    pred = o.scores.predictions(t)

    def stat(key):
        vals = np.array([summarise(y[o.fold == f], pred[o.fold == f], len(EMOTIONS))[key] for f in np.unique(o.fold)])
        return {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                "folds": vals.tolist()}

    pooled = summarise(y, np.where(pred < 0, 0, pred), len(EMOTIONS))
    probs = np.nan_to_num(o.scores.profiles(t), nan=1.0 / len(EMOTIONS))
    raw = np.nan_to_num(o.scores.profiles(1.0), nan=1.0 / len(EMOTIONS))
    return {
        "title": MODE_TITLES[mode],
        "accuracy": stat("accuracy"),
        "macro_f1": stat("macro_f1"),
        "uar": stat("uar"),
        "per_class_recall": dict(zip(EMOTIONS, pooled["per_class_recall"])),
        "confusion": pooled["confusion"],
        "temperature": t,
        "ece_uncalibrated": expected_calibration_error(raw, y),
        "ece_calibrated": expected_calibration_error(probs, y),
        "ece_cross_fitted": _cross_fitted_ece(o, y),
        "n_files": int(len(y)),
    }


def _cross_fitted_ece(o, y):
    """ECE of out-of-fold answers, each fold calibrated with a temperature fitted on the other
    folds only, pooled over all recordings (as the uncalibrated ECE is).

    The temperature the bundle ships is fitted on all out-of-fold answers; scoring its ECE on
    those same answers would flatter it, so the reported calibration error is cross-fitted.
    Pooling matters too: ECE on one fold's 240 files is biased upward by sampling noise, so
    per-fold values are not comparable with a pooled figure.
    """
    folds = np.unique(o.fold)
    if len(folds) < 2:
        return float("nan")
    probs = np.zeros((len(y), len(EMOTIONS)))
    for f in folds:
        test = np.flatnonzero(o.fold == f)
        train = np.flatnonzero(o.fold != f)
        t = o.scores.take(train).fit_temperature(y[train])
        probs[test] = o.scores.take(test).profiles(t)
    return expected_calibration_error(np.nan_to_num(probs, nan=1.0 / len(EMOTIONS)), y)
