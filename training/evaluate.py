"""Speaker-independent k-fold cross-validation by actor.

Each fold's test actors are never seen in training; early stopping uses validation
actors taken from the training actors. Every test file is scored twice: alone (global
statistics of the training actors) and with its speaker baseline (statistics of that
actor's files, no labels used). Calibration temperatures are fitted on the pooled
out-of-fold logits.
"""

import dataclasses
import logging
import time

import numpy as np

from ser_engine import EMOTIONS
from ser_engine.inference import softmax

from .cache import noise_key
from .metrics import expected_calibration_error, fit_temperature, summarise
from .model import AUX_OUTPUTS
from .train import (aux_targets, file_binary_logits, file_logits, mean_mode_accuracy, perturbed_speaker_stats,
                    speaker_stats, train_model, tta_file_logits, validation_score)

logger = logging.getLogger(__name__)

MODES = ("global", "speaker")
MODE_TITLES = {"global": "each file alone", "speaker": "with speaker baseline"}


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


@dataclasses.dataclass
class CVResult:
    folds: list            # per fold: dict(test_actors, val_actors, best_epoch, metrics per mode, seconds)
    oof_logits: dict       # mode -> np.ndarray (n_files, n_classes), in dataset order
    labels: np.ndarray
    temperatures: dict     # mode -> float
    summary: dict          # mode -> metrics (mean/std over folds, pooled confusion, ECE)
    histories: list        # per fold: list of EpochLog
    aux_oof: dict = dataclasses.field(default_factory=dict)  # head -> mode -> (n_files, 2) logits (no, yes)
    #: condition -> mode -> logits of the same models under another test condition: "tta"
    #: (test-time augmentation) and "snr<N>" (the test files with white noise N dB down)
    extra_oof: dict = dataclasses.field(default_factory=dict)

    @property
    def best_epochs(self):
        return [f["best_epoch"] for f in self.folds]


def cross_validate(dataset, features, cfg, *, progress=None, should_stop=None, only_folds=None, tta=False,
                   noisy_snrs=()):
    """Run k-fold speaker-independent CV.

    Parameters
    ----------
    dataset : Dataset
    features : dict Path -> raw features
    cfg : TrainConfig  (``cfg.folds`` folds)
    progress : callable(event: dict) or None
        Called with ``{"phase": "fold", "fold": i, "folds": k, "epoch": EpochLog}``.
    only_folds : iterable of int or None
        Run only these folds (for quick experiments; the summary then covers only them).
    tta : bool
        Also score every fold's model with test-time augmentation (its ``cfg.speeds`` copies):
        for the accuracy benchmark; off in the app's training, where it would only cost time.
    noisy_snrs : iterable of float
        Also score every fold's model on the noisy copies of its test and validation files
        at these SNRs (``features[(path, noise_key(snr))]``, never trained on unless
        ``cfg.noise_snrs`` has them): how much a room costs, per lever.

    Returns
    -------
    CVResult
    """
    items = dataset.items
    labels = np.array([it.label for it in items])
    folds = actor_folds(dataset.actors, cfg.folds)
    oof = {m: np.full((len(items), len(EMOTIONS)), np.nan) for m in MODES}
    fold_logs, histories, aux_oof = [], [], {}
    conditions = _extra_conditions(cfg, tta, noisy_snrs)
    extra_oof = {c: {m: np.full((len(items), len(EMOTIONS)), np.nan) for m in MODES} for c in conditions}
    for i, test_actors in enumerate(folds):
        if only_folds is not None and i not in only_folds:
            continue
        t0 = time.perf_counter()
        rest = [a for a in dataset.actors if a not in test_actors]
        val_actors = pick_validation(rest, min(cfg.val_actors, len(rest) - 1))
        tr = [it for it in items if it.actor in rest and it.actor not in val_actors]
        va = [it for it in items if it.actor in val_actors]
        idx = [j for j, it in enumerate(items) if it.actor in test_actors]
        te = [items[j] for j in idx]

        def on_epoch(log, i=i):
            if progress:
                progress({"phase": "fold", "fold": i + 1, "folds": len(folds), "epoch": log})

        tm = train_model(tr, va, features, cfg, seed=cfg.seed + i, on_epoch=on_epoch, should_stop=should_stop)
        spk = speaker_stats(te, features, config=cfg.feature)
        oof["global"][idx] = file_logits(tm.model, te, features, lambda it: tm.global_stats, cfg=cfg)
        oof["speaker"][idx] = file_logits(tm.model, te, features, lambda it: spk[it.actor], cfg=cfg)
        for name, head in tm.aux_models.items():
            per_mode = aux_oof.setdefault(name, {m: np.full((len(items), 2), np.nan) for m in MODES})
            per_mode["global"][idx] = file_binary_logits(head, te, features, lambda it: tm.global_stats, cfg=cfg)
            per_mode["speaker"][idx] = file_binary_logits(head, te, features, lambda it: spk[it.actor], cfg=cfg)
        fold_metrics = {m: summarise(labels[idx], oof[m][idx].argmax(1), len(EMOTIONS)) for m in MODES}
        # The fold's final model (the whole ensemble, not one member) on its validation actors:
        # the score the accuracy benchmark chooses levers on.
        _, val_accuracy = validation_score(tm.model, va, features, tm.global_stats, cfg) if va else (None, None)
        val_extra = {}
        for name, scores in conditions.items():  # the same model under other conditions (inference only)
            for m, logits in scores(tm, te, features, cfg).items():
                extra_oof[name][m][idx] = logits
            if va:
                val_extra[name] = mean_mode_accuracy(scores(tm, va, features, cfg).values(),
                                                     np.array([it.label for it in va]))
        fold_logs.append({"fold": i + 1, "test_actors": test_actors, "val_actors": val_actors,
                          "best_epoch": tm.best_epoch, "epochs_run": len(tm.history), "val_accuracy": val_accuracy,
                          "val_accuracy_extra": val_extra,
                          "seconds": time.perf_counter() - t0, "metrics": fold_metrics})
        histories.append(tm.history)
        logger.info("fold %d/%d: accuracy alone %.3f, with baseline %.3f", i + 1, len(folds),
                    fold_metrics["global"]["accuracy"], fold_metrics["speaker"]["accuracy"])
        del tm
    done = ~np.isnan(oof["global"][:, 0])
    temps = {m: fit_temperature(oof[m][done], labels[done]) for m in MODES}
    fold_of = np.full(len(items), -1)
    for f, test_actors in enumerate(folds):
        fold_of[[j for j, it in enumerate(items) if it.actor in test_actors]] = f
    summary = {m: _summarise_mode(fold_logs, oof[m][done], labels[done], temps[m], m) for m in MODES}
    for m in MODES:
        summary[m]["ece_cross_fitted"] = _cross_fitted_ece(oof[m][done], labels[done], fold_of[done])
        if aux_oof:
            targets = aux_targets(items).astype(int)
            summary[m]["aux"] = {name: _summarise_aux(per_mode[m][done], targets[done, AUX_OUTPUTS.index(name)],
                                                      fold_of[done])
                                 for name, per_mode in aux_oof.items()}
    for name, per_mode in extra_oof.items():
        for m, logits in per_mode.items():
            summary[m].setdefault("extra", {})[name] = {
                "accuracy": _fold_accuracy(logits[done], labels[done], fold_of[done])}
    return CVResult(fold_logs, oof, labels, temps, summary, histories, aux_oof, extra_oof)


def _extra_conditions(cfg, tta, noisy_snrs):
    """Scorers ``(tm, items, features, cfg) -> {mode: logits}`` of the other test conditions."""
    out = {"tta": _tta_scores} if tta and cfg.speeds else {}
    for snr in noisy_snrs:
        out[noise_key(snr)] = lambda tm, items, features, cfg, key=noise_key(snr): _copy_scores(
            tm, items, features, cfg, key)
    return out


def _tta_scores(tm, items, features, cfg):
    """Per mode, the test-time-augmented file logits of ``items`` (actors outside training)."""
    speaker = {**speaker_stats(items, features, config=cfg.feature),
               **perturbed_speaker_stats(items, features, list(cfg.speeds), config=cfg.feature)}
    return {"global": tta_file_logits(tm.model, items, features, lambda it, s: tm.global_stats, cfg=cfg),
            "speaker": tta_file_logits(tm.model, items, features,
                                       lambda it, s: speaker[it.actor if s is None else (it.actor, s)], cfg=cfg)}


def _copy_scores(tm, items, features, cfg, key):
    """Per mode, the file logits of the copies ``features[(path, key)]`` of ``items``, the
    speaker baseline taken from that speaker's copies (the condition they are heard in)."""
    copies = {it.path: features[(it.path, key)] for it in items}
    speaker = speaker_stats(items, copies, config=cfg.feature)
    return {"global": file_logits(tm.model, items, copies, lambda it: tm.global_stats, cfg=cfg),
            "speaker": file_logits(tm.model, items, copies, lambda it: speaker[it.actor], cfg=cfg)}


def _summarise_aux(logits, targets, fold_of):
    """Accuracy of a binary head (mean ± std over folds) and its pooled balanced accuracy."""
    pooled = summarise(targets, logits.argmax(1), 2)
    return {"accuracy": _fold_accuracy(logits, targets, fold_of),
            "balanced_accuracy": pooled["uar"], "confusion": pooled["confusion"]}


def _fold_accuracy(logits, targets, fold_of):
    """Accuracy of ``logits`` per fold: mean, std over folds and the folds' values."""
    pred = logits.argmax(1)
    per_fold = np.array([np.mean(pred[fold_of == f] == targets[fold_of == f]) for f in np.unique(fold_of)])
    return {"mean": float(per_fold.mean()), "std": float(per_fold.std(ddof=1)) if len(per_fold) > 1 else 0.0,
            "folds": per_fold.tolist()}


def _cross_fitted_ece(logits, labels, fold_of):
    """ECE of out-of-fold probabilities, each fold calibrated with a temperature fitted on
    the other folds only, pooled over all files (as the uncalibrated ECE is).

    The temperature the bundle ships is fitted on all out-of-fold logits; scoring its ECE on
    those same logits would flatter it, so the reported calibration error is cross-fitted.
    Pooling matters too: ECE on one fold's 240 files is biased upward by sampling noise, so
    per-fold values are not comparable with a pooled figure.
    """
    probs = softmax(logits)
    folds = np.unique(fold_of)
    if len(folds) < 2:
        return float("nan")
    for f in folds:
        test = fold_of == f
        probs[test] = softmax(logits[test], fit_temperature(logits[~test], labels[~test]))
    return expected_calibration_error(probs, labels)


def _summarise_mode(fold_logs, logits, labels, temperature, mode):
    def stat(key):
        vals = np.array([f["metrics"][mode][key] for f in fold_logs])
        return {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                "folds": vals.tolist()}

    pooled = summarise(labels, logits.argmax(1), len(EMOTIONS))
    return {
        "title": MODE_TITLES[mode],
        "accuracy": stat("accuracy"),
        "macro_f1": stat("macro_f1"),
        "uar": stat("uar"),
        "per_class_recall": dict(zip(EMOTIONS, pooled["per_class_recall"])),
        "confusion": pooled["confusion"],
        "temperature": temperature,
        "ece_uncalibrated": expected_calibration_error(softmax(logits), labels),
        "ece_calibrated": expected_calibration_error(softmax(logits, temperature), labels),
        "n_files": int(len(labels)),
    }
