"""Re-derive a bundle's "uncertain" threshold and model card from its training report.

    python -m training.recalibrate resources/model docs/model/report.json [--figure docs/model/reliability.png]

For a bundle trained before the threshold was read off the out-of-fold reliability curve:
uses the report's out-of-fold logits and temperatures (no retraining, model files kept),
rewrites the manifest's ``calibration.uncertain_below`` and the card, and optionally the
reliability figure.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ser_engine.atomic import atomic_write_bytes
from ser_engine.bundle import load_bundle, rewrite_metadata
from ser_engine.inference import softmax

from . import report as rep
from .evaluate import MODES
from .metrics import uncertain_threshold


def recalibrate(bundle_dir, report_path):
    """Returns ``(uncertain_below, reliability bins per mode)`` after rewriting the bundle."""
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    bundle = load_bundle(bundle_dir)
    if report.get("model_id") != bundle.model_id:
        raise ValueError(f"{report_path} is the report of {report.get('model_id')}, not of {bundle.model_id}")
    oof = report["out_of_fold"]
    labels = np.array(oof["labels"])
    temps = bundle.manifest["calibration"]["temperature"]
    probs = {m: softmax(np.array(oof["logits"][m]), temps[m]) for m in MODES}
    threshold = uncertain_threshold(np.concatenate([probs[m] for m in MODES]), np.concatenate([labels] * len(MODES)))
    reliability = {m: rep.reliability_bins(probs[m], labels) for m in MODES}
    manifest = dict(bundle.manifest)
    manifest["calibration"] = {**manifest["calibration"], "uncertain_below": threshold}
    rewrite_metadata(bundle_dir, manifest=manifest,
                     card=rep.model_card(manifest, manifest["evaluation"], reliability))
    return threshold, reliability


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle")
    p.add_argument("report")
    p.add_argument("--figure", help="also write the reliability diagram (PNG) here")
    args = p.parse_args(argv)
    threshold, reliability = recalibrate(args.bundle, args.report)
    if args.figure:
        atomic_write_bytes(Path(args.figure), rep.reliability_png(reliability, threshold))
    print(f"{args.bundle}: uncertain below {threshold:.2f}")


if __name__ == "__main__":
    main()
