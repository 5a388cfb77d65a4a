"""Measure one training lever on a few speaker-independent folds.

    python bench/explore_levers.py '{"speaker_mix": 1.0, "ensemble": 3}' --folds 0 2 [--record NOTE]

Trains on the training actors of each chosen fold of the 5-fold split (early stopping on
validation actors inside them) and scores the fold's unseen test actors, alone and with
speaker baseline. ``--record`` adds the result as a row of the "Levers" table in
BENCHMARKS.md. Decisions about levers are taken on these figures; the headline figures
come from bench/bench_training.py over all five folds.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import BENCHMARKS, write_section  # noqa: E402


def run(overrides, folds, data):
    from training.cache import FeatureCache, extract_training_features
    from training.config import TrainConfig
    from training.dataset import discover
    from training.evaluate import actor_folds, pick_validation
    from training.train import file_logits, speaker_stats, train_model

    ds = discover(data)
    cfg = TrainConfig(**overrides)
    feats, _, _ = extract_training_features([it.path for it in ds.items], config=cfg.feature, speeds=cfg.speeds,
                                            cache=FeatureCache(cfg.feature), workers=cfg.workers)
    split = actor_folds(ds.actors, 5)
    acc = {"global": [], "speaker": []}
    t0 = time.perf_counter()
    for f in folds:
        test = split[f]
        rest = [a for a in ds.actors if a not in test]
        val = pick_validation(rest, cfg.val_actors)
        tr = [it for it in ds.items if it.actor in rest and it.actor not in val]
        va = [it for it in ds.items if it.actor in val]
        te = [it for it in ds.items if it.actor in test]
        y = np.array([it.label for it in te])
        spk = speaker_stats(te, feats, config=cfg.feature)
        tm = train_model(tr, va, feats, cfg, seed=cfg.seed + f)
        acc["global"].append(float((file_logits(tm.model, te, feats, lambda it: tm.global_stats, cfg=cfg)
                                    .argmax(1) == y).mean()))
        acc["speaker"].append(float((file_logits(tm.model, te, feats, lambda it: spk[it.actor], cfg=cfg)
                                     .argmax(1) == y).mean()))
        print(f"fold {f + 1}: alone {acc['global'][-1]:.3f}, with baseline {acc['speaker'][-1]:.3f}", flush=True)
    return acc, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("overrides", help="TrainConfig fields as JSON")
    p.add_argument("--folds", type=int, nargs="+", default=[0, 2], help="0-based folds of the 5-fold split")
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "ravdess-speech-16k"))
    p.add_argument("--record", metavar="NOTE", help="add a row to BENCHMARKS.md with this description")
    args = p.parse_args(argv)
    from ser_engine.runtime import quiet_tensorflow
    quiet_tensorflow()
    acc, seconds = run(json.loads(args.overrides), args.folds, args.data)
    row = (f"| {args.record or args.overrides} | `{args.overrides}` | {', '.join(str(f + 1) for f in args.folds)} "
           f"| {np.mean(acc['global']):.1%} | {np.mean(acc['speaker']):.1%} | {seconds / 60:.0f} min |")
    print(row)
    if args.record:
        text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
        start, end = text.find("<!-- levers -->"), text.find("<!-- /levers -->")
        rows = []
        if start >= 0 and end > start:
            rows = [ln for ln in text[start:end].splitlines() if ln.startswith("| ") and not ln.startswith("| Lever")]
        body = "\n".join([
            "Each row: one run of `bench/explore_levers.py` on the folds named (of the 5-fold split by actor), "
            "mean test accuracy over them. Single runs on two folds move by about ±3 points from seed "
            "to seed, so only differences larger than that are read as effects.", "",
            "| Lever | Settings | Folds | Alone | With speaker baseline | Time |", "|---|---|---|---|---|---|",
            *rows, row])
        write_section("levers", "Levers explored (2 of 5 folds)", body, "bench/explore_levers.py")


if __name__ == "__main__":
    main()
