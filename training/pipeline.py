"""One training run, end to end: discover, extract (cached), cross-validate, train the final
model, calibrate, write the bundle and the report.

Both ``ser-train`` and the desktop Train tab call :func:`run_training`; progress comes back
through one callback as small dicts, and ``should_stop`` is polled between batches.
Nothing is written to ``out_dir`` until the final model is trained, and each file is
written atomically, so a failure or a cancel leaves no half-written bundle.
"""

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from ser_engine import EMOTIONS, __version__
from ser_engine.bundle import write_bundle
from ser_engine.encoder import current_spec
from ser_engine.errors import DatasetError

from . import report as rep
from .cache import FeatureCache, extract_run_states, extract_training_features
from .dataset import Dataset, _check, discover
from .distributed import open_runner
from .evaluate import MODES, OutOfFold, actor_folds, cross_validate, mode_of, pick_validation
from .metrics import uncertain_threshold
from .scoring import CONDITIONS, recordings_of, score_conditions
from .train import train_model

logger = logging.getLogger(__name__)

#: Calibrated confidence under which a quick run's model says "uncertain" (no out-of-fold
#: predictions to read a threshold from). A k-fold run reads it off its reliability curve.
UNCERTAIN_BELOW = 0.5


@dataclasses.dataclass
class TrainingOutcome:
    bundle_dir: Path
    report_dir: Path
    report: dict


def run_training(data_dir, out_dir, cfg, *, progress=None, should_stop=None, cache_root=None,
                 description=None, model_id=None, scheduler=None, workers=None, litert=True):
    """Train and evaluate a model from a RAVDESS folder.

    Parameters
    ----------
    data_dir : Path
        A RAVDESS speech folder in any of the accepted layouts.
    out_dir : Path
        Receives ``model/`` (the bundle), ``report.json`` and the PNG figures.
    cfg : TrainConfig
        ``cfg.folds >= 2`` runs the k-fold report first; ``0`` is a quick run.
    progress : callable(dict) or None
        Events: ``{"phase": "scan"|"features"|"fold"|"final"|"write"|"done", ...}``.
    should_stop : callable() -> bool or None
    scheduler : str or None
        A running Dask scheduler's address (``tcp://HOST:PORT``): its workers extract the
        features and train the models (:mod:`training.distributed`); they must read
        ``data_dir`` at the same path. This process writes the cache, the report and the bundle.
    workers : int or None
        The same on a LocalCluster of this many worker processes on this machine.
        Neither: everything runs in this process, as it always has.
    litert : bool
        False: the bundle has no ``model.tflite`` (the app runs it through Keras, with the same
        labels and a slower start); saves the conversion (~20 s for a tiny model, more for an
        ensemble) where the bundle is an experiment, not the app's model.

    Returns
    -------
    TrainingOutcome

    Raises
    ------
    ClusterError
        The cluster cannot be used: no scheduler or workers, a worker that cannot read the
        data, the scheduler lost.
    """
    with open_runner(scheduler, workers) as runner:
        return _run_training(data_dir, out_dir, cfg, progress=progress, should_stop=should_stop,
                             cache_root=cache_root, description=description, model_id=model_id, runner=runner,
                             litert=litert)


def _run_training(data_dir, out_dir, cfg, *, progress, should_stop, cache_root, description, model_id, runner,
                  litert):
    emit = progress or (lambda event: None)
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    emit({"phase": "scan", "message": f"Scanning {data_dir}"})
    dataset = discover(data_dir)
    cfg = _with_feasible_teacher(cfg, dataset.actors, emit)
    emit({"phase": "scan", "dataset": dataset.summary()})
    if runner is not None:  # before any work is sent: the workers read the recordings by this machine's paths
        runner.check_readable([it.path for it in dataset.items])

    t0 = time.perf_counter()
    cache = FeatureCache(cfg.feature, cache_root)
    features, failures, n_cached = extract_training_features(
        [it.path for it in dataset.items], config=cfg.feature, speeds=cfg.speeds, noise_snrs=cfg.noise_snrs,
        pitch_steps=cfg.pitch_steps, channels=cfg.channels, cache=cache, workers=cfg.workers,
        progress=lambda done, total, cached: emit({"phase": "features", "done": done, "total": total,
                                                   "cached": cached}),
        should_stop=should_stop, runner=runner)
    states = extract_run_states(
        features, cfg, cache_root=cache_root,
        progress=lambda done, total, cached: emit({"phase": "encoder", "done": done, "total": total, "cached": cached}),
        should_stop=should_stop, runner=runner)
    feature_seconds = time.perf_counter() - t0
    if failures:
        dataset = Dataset(dataset.root, [it for it in dataset.items if it.path not in failures],
                          dataset.skipped + [(p, f"unreadable: {r}") for p, r in failures.items()])
        _check(dataset, min_actors=2, require_all_classes=True)
        cfg = _with_feasible_teacher(cfg, dataset.actors, emit)
    if cfg.folds and len(dataset.actors) < max(cfg.folds, 3):
        raise DatasetError(f"{data_dir}: {cfg.folds}-fold evaluation needs at least {max(cfg.folds, 3)} actors; "
                           f"found {len(dataset.actors)}. Use fewer folds or a quick run.")

    labels = np.array([it.label for it in dataset.items])
    histories = []
    recs = recordings_of(features, cfg, states=states)  # made once: the folds and the final model read them
    if cfg.folds:
        cv = cross_validate(dataset, features, cfg, progress=emit, should_stop=should_stop, states=states, recs=recs,
                            runner=runner)
        temperatures = cv.temperatures
        final_epochs = max(1, int(round(float(np.median(cv.best_epochs)))))
        histories += [(f"fold {f['fold']}", h) for f, h in zip(cv.folds, cv.histories)]
        evaluation = {"protocol": f"{cfg.folds}-fold speaker-independent cross-validation by actor",
                      "modes": {m: cv.summary[m] for m in MODES}, "conditions": cv.summary["conditions"],
                      "folds": _fold_table(cv.folds)}
        reliability, uncertain_below = reliability_and_threshold(cv)
    else:
        final_epochs, temperatures, evaluation, reliability = None, None, None, {}
        uncertain_below = UNCERTAIN_BELOW

    emit({"phase": "final", "message": "Training the final model on all actors"})
    final_items, val_items = dataset.items, []
    if final_epochs is None:  # quick run: hold out validation actors for early stopping and calibration
        val_actors = pick_validation(dataset.actors, max(1, min(cfg.val_actors, len(dataset.actors) - 1)))
        val_items = [it for it in dataset.items if it.actor in val_actors]
        final_items = [it for it in dataset.items if it.actor not in val_actors]
    tm = train_model(final_items, val_items, features, cfg, seed=cfg.seed, epochs=final_epochs,
                     on_epoch=lambda log: emit({"phase": "final", "epoch": log}), should_stop=should_stop, recs=recs,
                     runner=runner, states=states)
    histories.append(("final", tm.history))
    if temperatures is None:
        temperatures, evaluation = _quick_evaluation(tm, val_items, val_actors, recs, cfg)

    emit({"phase": "write", "message": f"Writing the model to {out_dir}"})
    created = rep.now_iso()
    import keras
    manifest = {
        "model_id": model_id or f"ser-cnnlstm-{created[:10]}-{dataset.summary()['files']}f",
        "version": __version__,
        "created": created,
        "labels": list(EMOTIONS),
        "feature_config": cfg.feature.to_dict(),
        "front_end": cfg.front_end.to_dict(),
        **({"encoder": current_spec().to_dict()} if cfg.front_end.uses_encoder else {}),
        "window": cfg.window.to_dict(),
        "normalisation": {"global": tm.global_stats.to_dict(), "modes": list(MODES),
                          "speaker": "statistics of the speaker's own speech frames at prediction time",
                          "speaker_scale": cfg.speaker_scale},
        "calibration": {"method": "temperature scaling of the speech elements' probabilities, fitted on the "
                                  "out-of-fold recordings' answers (share of speech time)",
                        "temperature": temperatures, "uncertain_below": uncertain_below},
        "training_data": {"description": description or f"RAVDESS speech from {Path(data_dir).name}",
                          "files": len(dataset.items), "actors": dataset.actors,
                          "per_emotion": dataset.count_by_emotion(), "skipped": len(dataset.skipped)},
        "training": {"config": cfg.to_dict(), "final_epochs": len(tm.history)},
        "evaluation": {k: v for k, v in evaluation.items() if k != "folds"},
        "software": {"ser_studio": __version__, "keras": keras.__version__},
    }
    card = rep.model_card(manifest, evaluation, reliability)
    report = {
        "created": created,
        "dataset": dataset.summary(),
        "skipped": [{"path": str(p), "reason": r} for p, r in dataset.skipped],
        "evaluation": evaluation,
        "calibration": {"temperature": temperatures, "reliability": reliability,
                        "uncertain_below": uncertain_below},
        "timing": {"feature_seconds": round(feature_seconds, 1), "features_cached": n_cached,
                   "total_seconds": None},
        "history": {name: [dataclasses.asdict(h) for h in hist] for name, hist in histories},
        "model_id": manifest["model_id"],
    }
    if cfg.folds:  # for later calibration and error analysis without retraining
        report["out_of_fold"] = {"files": [it.path.name for it in dataset.items], "labels": labels.tolist(),
                                 "conditions": {c: cv.oof[c].to_json() for c in ("global", "all") if c in cv.oof}}
    figures = {"curves.png": rep.curves_png(histories)}
    if evaluation.get("modes"):
        figures["confusion.png"] = rep.confusion_png(evaluation["modes"])
        figures["reliability.png"] = rep.reliability_png(reliability, uncertain_below)
    bundle_dir = write_bundle(out_dir / "model", model=tm.model, manifest=manifest, card=card, litert=litert)
    report["timing"]["total_seconds"] = round(time.perf_counter() - t_start, 1)
    rep.write_report(out_dir, report, figures)
    emit({"phase": "done", "bundle": str(bundle_dir), "report": str(out_dir)})
    return TrainingOutcome(bundle_dir, out_dir, report)


def fewest_training_actors(actors, cfg):
    """The fewest actors any model of a run with ``cfg`` is trained on: each fold's training
    actors (the rest after its test and validation actors) and the final model's (all actors
    after a k-fold report; all but the validation actors of a quick run)."""
    n = len(actors)
    counts = [n] if cfg.folds else [n - max(1, min(cfg.val_actors, n - 1))]
    if cfg.folds and n >= cfg.folds:
        for test in actor_folds(actors, cfg.folds):
            rest = n - len(test)
            counts.append(rest - min(cfg.val_actors, rest - 1))
    return min(counts)


def _with_feasible_teacher(cfg, actors, emit):
    """``cfg`` without distillation when some model would train on a single actor: the teacher's
    targets are cross-fitted by actor (training.teacher), which takes two. A small folder still
    trains; the bundle's config records that it did so without a teacher."""
    if not cfg.distill or fewest_training_actors(actors, cfg) >= 2:
        return cfg
    emit({"phase": "scan", "message": f"Training without the encoder teacher: {len(actors)} actor(s) leave a "
                                      f"model with one training actor, and the teacher needs two"})
    return dataclasses.replace(cfg, distill=0.0)


def reliability_and_threshold(cv):
    """The out-of-fold reliability bins per mode, and the "uncertain" threshold: one for both
    modes, where the pooled reliability curve (every recording alone and under every baseline
    condition, calibrated) crosses 50% accuracy."""
    probs = {"global": cv.probabilities("global"), "speaker": cv.speaker_probabilities()}
    reliability = {m: rep.reliability_bins(*probs[m]) for m in MODES}
    threshold = uncertain_threshold(np.concatenate([probs[m][0] for m in MODES]),
                                    np.concatenate([probs[m][1] for m in MODES]))
    return reliability, threshold


def _quick_evaluation(tm, val_items, val_actors, recs, cfg):
    """Temperatures and a note from the validation actors of a quick run (no k-fold report)."""
    labels = np.array([it.label for it in val_items])
    conds = ("global",) + CONDITIONS
    scored = score_conditions(tm.model, val_items, recs, tm.global_stats, cfg, conds)
    oof = {c: OutOfFold(idx, np.zeros(len(idx), np.int64), sc) for c, (idx, sc) in scored.items()}
    temps = {"global": oof["global"].scores.fit_temperature(labels[oof["global"].index])}
    pooled = OutOfFold.join([(oof[c].index, oof[c].fold, oof[c].scores) for c in CONDITIONS])
    temps["speaker"] = pooled.scores.fit_temperature(labels[pooled.index])

    def acc(c):
        return np.mean(oof[c].scores.predictions(temps[mode_of(c)]) == labels[oof[c].index])

    note = (f"Validation actors {val_actors} (also used for early stopping, so optimistic): accuracy "
            f"{acc('global'):.1%} alone, {acc('all'):.1%} with a baseline of all their clips, "
            f"{acc('low_arousal'):.1%} / {acc('high_arousal'):.1%} with one of their low / high-arousal clips only.")
    return temps, {"protocol": "quick run", "modes": {}, "note": note}


def _fold_table(folds):
    return [{"fold": f["fold"], "test_actors": f["test_actors"], "val_actors": f["val_actors"],
             "best_epoch": f["best_epoch"], "val_accuracy": f["val_accuracy"], "seconds": round(f["seconds"], 1),
             **{f"accuracy_{m}": f["metrics"][m]["accuracy"] for m in MODES}} for f in folds]
