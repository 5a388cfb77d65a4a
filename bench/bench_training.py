"""Full training benchmark: 5-fold speaker-independent CV on actors 01-20, then the final model.

    python bench/bench_training.py [--data DIR] [--out DIR] [--ship] [--warm]

Measures cold feature extraction (a fresh cache; ``--warm``: the user's cache instead), cached re-extraction, the whole run's wall
time, the cross-validated figures of both modes and the bundle size, and writes them to
BENCHMARKS.md. ``--ship`` also installs the bundle as resources/model and the report figures
under docs/model/ (what `resources/model` was made with).
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402


def fmt(stat):
    return f"{stat['mean']:.1%} ± {stat['std']:.1%}"


def default_model_id(cfg):
    """``ser-cnnlstm-ravdess20-20261204``, or ``ser-cnnlstm-ens3-ravdess20-20261204`` for an ensemble of 3."""
    kind = "cnnlstm" if cfg.ensemble == 1 else f"cnnlstm-ens{cfg.ensemble}"
    return f"ser-{kind}-ravdess20-{time.strftime('%Y%m%d')}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "ravdess-speech-16k"))
    p.add_argument("--out", default=None, help="output folder (default: a temporary one)")
    p.add_argument("--ship", action="store_true", help="install the bundle as resources/model")
    p.add_argument("--config", default="{}", help="TrainConfig fields to override, as JSON (for comparisons)")
    p.add_argument("--no-record", action="store_true", help="print the figures without writing BENCHMARKS.md")
    p.add_argument("--warm", action="store_true",
                   help="train from the user's cache folder, where the app and bench_honest keep features and "
                        "encoder states (the extraction timing is then a warm cache's, and says so); default: a "
                        "fresh cache, timed cold and removed")
    p.add_argument("--model-id", default=None,
                   help="the bundle's model id (default: ser-cnnlstm-ravdess20-DATE, with -ensN for an ensemble "
                        "of N, so a retrained bundle of another recipe never takes the id of the one it replaces)")
    p.add_argument("--note", default="", help="how the machine was shared during the run (written with the timings)")
    args = p.parse_args(argv)

    from ser_engine.runtime import quiet_tensorflow
    quiet_tensorflow()
    from training.cache import FeatureCache, extract_features
    from training.config import TrainConfig, snr_phrase
    from training.dataset import discover
    from training.pipeline import run_training

    import json
    cfg = TrainConfig(**json.loads(args.config))
    out = Path(args.out or tempfile.mkdtemp(prefix="ser-bench-train-"))
    cache_root = None if args.warm else Path(tempfile.mkdtemp(prefix="ser-bench-cache-"))
    try:
        t0 = time.perf_counter()
        outcome = run_training(args.data, out, cfg, cache_root=cache_root,
                               description="RAVDESS speech, actors 01-20 (16 kHz FLAC copy)",
                               model_id=args.model_id or default_model_id(cfg),
                               progress=lambda e: e.get("phase") in ("fold", "final") and "epoch" not in e
                               and print(e.get("message", ""), flush=True))
        total = time.perf_counter() - t0
        paths = [it.path for it in discover(args.data).items]
        t1 = time.perf_counter()
        _, _, n_cached = extract_features(paths, config=cfg.feature, cache=FeatureCache(cfg.feature, cache_root))
        cached_seconds = time.perf_counter() - t1
        # The recordings alone (no speed-perturbed copies), cold: what the app's analysis costs.
        t2 = time.perf_counter()
        extract_features(paths, config=cfg.feature, cache=None, workers=cfg.workers)
        plain_seconds = time.perf_counter() - t2
    finally:
        if cache_root is not None:
            shutil.rmtree(cache_root, ignore_errors=True)

    rep = outcome.report
    bundle_bytes = sum(f.stat().st_size for f in outcome.bundle_dir.iterdir())
    modes = rep["evaluation"]["modes"]
    rows = ["| Mode | Accuracy | Macro-F1 | UAR | ECE uncalibrated | ECE calibrated (cross-fitted) | Temperature |",
            "|---|---|---|---|---|---|---|"]
    for m in modes.values():
        rows.append(f"| {m['title']} | {fmt(m['accuracy'])} | {m['macro_f1']['mean']:.3f} ± {m['macro_f1']['std']:.3f} "
                    f"| {m['uar']['mean']:.3f} ± {m['uar']['std']:.3f} | {m['ece_uncalibrated']:.3f} | {m['ece_cross_fitted']:.3f} "
                    f"| {m['temperature']:.2f} |")
    folds = ["| Fold | Test actors | Best epoch | Accuracy alone | With speaker baseline |", "|---|---|---|---|---|"]
    for f in rep["evaluation"]["folds"]:
        folds.append(f"| {f['fold']} | {', '.join(f'{a:02d}' for a in f['test_actors'])} | {f['best_epoch']} "
                     f"| {f['accuracy_global']:.1%} | {f['accuracy_speaker']:.1%} |")
    recall = ["| Emotion | " + " | ".join(m["title"] for m in modes.values()) + " |",
              "|---|" + "---|" * len(modes)]
    for emo in next(iter(modes.values()))["per_class_recall"]:
        recall.append(f"| {emo} | " + " | ".join(f"{m['per_class_recall'][emo]:.1%}" for m in modes.values()) + " |")
    conditions = ["| Speaker baseline of a test actor | Accuracy (mean ± std over folds) | Recordings scored |",
                  "|---|---|---|"]
    for c in rep["evaluation"].get("conditions", {}).values():
        conditions.append(f"| {c['title']} | {fmt(c)} | {c['n_scored']} |")
    body = "\n".join([
        f"{cfg.folds}-fold speaker-independent cross-validation by actor on {rep['dataset']['files']} files of "
        f"actors {rep['dataset']['actors'][0]:02d}–{rep['dataset']['actors'][-1]:02d}; early stopping on "
        f"{cfg.val_actors} validation actors inside each training fold; the test fold is never seen in training. "
        "Mean ± std over folds.", "", *rows, "",
        "Every honest condition (training/scoring.py), through the app's labelling core:", "", *conditions, "",
        "Per-class recall (pooled out-of-fold):", "", *recall, "",
        *folds, "",
        f"- Feature extraction of the {rep['dataset']['files']} recordings, {cfg.workers} processes, no cache: "
        f"**{plain_seconds:.1f} s**. With their speed-perturbed copies (×{', ×'.join(f'{s:g}' for s in cfg.speeds)})"
        + (f" and noisy copies ({snr_phrase(cfg.noise_snrs)} dB)" if cfg.noise_snrs else "")
        + (f" and pitch-shifted copies ({', '.join(f'{s:+g}' for s in cfg.pitch_steps)} semitones)"
           if cfg.pitch_steps else "")
        + f" ({rep['dataset']['files'] * (1 + len(cfg.speeds) + len(cfg.noise_snrs) + len(cfg.pitch_steps))} "
        "feature sets), as training "
        + ("does from a warm cache (features and encoder states computed by earlier runs; no cold timing this run): "
           if args.warm else "does on a cold cache: ")
        + f"{rep['timing']['feature_seconds']:.1f} s; from the cache: {cached_seconds:.1f} s for the "
        f"{n_cached} recordings.",
        f"- Whole run (extraction, {cfg.folds} folds, final model on all actors, report): **{total / 60:.1f} min**.",
        f"- Final model: {rep['history']['final'][-1]['epoch']} epochs (the median best epoch of the folds).",
        f"- Bundle size: **{bundle_bytes / 1e6:.2f} MB** ({', '.join(sorted(f.name for f in outcome.bundle_dir.iterdir()))}).",
        *([f"- Conditions of the timings: {args.note}"] if args.note else []),
    ])
    body = (f"Settings: ensemble of {cfg.ensemble}, speaker_mix {cfg.speaker_mix}, speeds {list(cfg.speeds)}, "
            f"noisy copies {list(cfg.noise_snrs)} dB, "
            f"window {cfg.window.length} frames; everything else as `training/config.py`.\n\n" + body)
    if not args.no_record:
        write_section("bench_training", "Training and speaker-independent accuracy", body, "bench/bench_training.py")
    print(body)
    if args.ship:
        from ser_engine.atomic import atomic_directory
        with atomic_directory(REPO / "resources" / "model") as tmp:
            for f in outcome.bundle_dir.iterdir():
                shutil.copy2(f, tmp / f.name)
        figures = REPO / "docs" / "model"
        figures.mkdir(parents=True, exist_ok=True)
        for name in ("confusion.png", "curves.png", "reliability.png", "report.json"):
            shutil.copy2(out / name, figures / name)
        print(f"installed the bundle in {REPO / 'resources' / 'model'} and the report in {figures}")


if __name__ == "__main__":
    main()
