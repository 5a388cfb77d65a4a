"""``ser-train``: rebuild the model from a local RAVDESS folder.

    ser-train --data DIR --out DIR [--folds K] [--epochs N] [--quick] [--seed S] [--workers N | --scheduler ADDR]

Writes ``DIR/model`` (a bundle that ``ser predict --model`` and the app accept),
``report.json`` and the PNG figures. Exit status 0 on success, 1 on bad input,
130 when interrupted (nothing half-written is left behind).
"""

import argparse
import logging
import sys

from ser_engine.errors import SerError
from ser_engine.runtime import quiet_tensorflow

from .config import TrainConfig


def build_parser():
    p = argparse.ArgumentParser(prog="ser-train", description="Train the emotion model from a RAVDESS folder.")
    p.add_argument("--data", required=True, help="RAVDESS speech folder (any nesting, WAV or FLAC)")
    p.add_argument("--out", required=True, help="output folder for the bundle and the report")
    p.add_argument("--folds", type=int, default=None, help="speaker-independent folds (default 5)")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs per model")
    p.add_argument("--quick", action="store_true", help="a short run without the k-fold report")
    p.add_argument("--ensemble", type=int, default=None,
                   help=f"models averaged into the bundle, per fold and final (default {TrainConfig.ensemble}, "
                        "the shipped recipe; 1 is fastest)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="extract and train on N Dask worker processes on this machine (a LocalCluster on loopback); "
                        "default: in this process, with 2 extraction processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="extract and train on a running Dask cluster; its workers must read --data at the same path")
    p.add_argument("--model-id", default=None, help="id written into the bundle")
    p.add_argument("--description", default=None, help="training data description for the model card")
    p.add_argument("--no-litert", dest="litert", action="store_false",
                   help="skip the LiteRT copy of the model (~20 s and more): the app runs the bundle through "
                        "TensorFlow, with the same labels and a slower start")
    return p


def config_from_args(args):
    overrides = {"seed": args.seed}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.folds is not None:
        overrides["folds"] = args.folds
    if args.ensemble is not None:
        overrides["ensemble"] = args.ensemble
    return TrainConfig.quick(**overrides) if args.quick else TrainConfig(**overrides)


class _Progress:
    """Turns pipeline events into tqdm bars on a terminal, and into one line per epoch and per
    extraction pass when stderr is a file or a pipe (a bar there writes a line per refresh:
    a quick rebuild's log grew to thousands of lines)."""

    def __init__(self, tty=None):
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.bar = None
        self.key = None

    def __call__(self, event):
        phase = event["phase"]
        if phase in ("features", "encoder"):
            what = "features" if phase == "features" else "speech encoder"
            done, total = event["done"], event["total"]
            if self.tty:
                self._bar((phase,), total, what)
                self.bar.n = done
                self.bar.set_postfix(cached=event["cached"], refresh=False)
                self.bar.refresh()
            elif done in (0, total) and self.key != (phase, done):
                self.key = (phase, done)
                self._write(f"{what}: {done} of {total} ({event['cached']} from the cache)")
        elif phase in ("fold", "final") and "epoch" in event:
            log = event["epoch"]
            title = f"fold {event['fold']}/{event['folds']}" if phase == "fold" else "final model"
            if getattr(log, "member", 0):
                title += f", model {log.member + 1}"
            post = {"loss": f"{log.loss:.3f}", "acc": f"{log.accuracy:.2f}"}
            if log.val_loss == log.val_loss:  # not NaN
                post.update(val_loss=f"{log.val_loss:.3f}", val_acc=f"{log.val_accuracy:.2f}")
            if self.tty:
                self._bar((phase, event.get("fold"), log.member), None, title)
                self.bar.update(1)
                self.bar.set_postfix(post)
            else:
                self._write(f"{title}: epoch {log.epoch} " + " ".join(f"{k} {v}" for k, v in post.items()))
        elif phase == "scan" and "dataset" in event:
            d = event["dataset"]
            self._write(f"Found {d['files']} files of {len(d['actors'])} actors; {d['skipped']} skipped.")
        elif "message" in event:
            self.close()
            self._write(event["message"])

    def _write(self, text):
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)

    def _bar(self, key, total, desc):
        from tqdm import tqdm

        if self.key != key:
            self.close()
            self.bar = tqdm(total=total, desc=desc, unit="epoch" if total is None else "file", file=sys.stderr)
            self.key = key

    def close(self):
        if self.bar is not None:
            self.bar.close()
        self.bar, self.key = None, None


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("ser-train: --workers must be at least 1", file=sys.stderr)
        return 1
    if args.scheduler and args.workers is not None:
        print("ser-train: --workers is for this machine; with --scheduler the cluster's own workers train",
              file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    quiet_tensorflow()
    from .pipeline import run_training

    progress = _Progress()
    try:
        outcome = run_training(args.data, args.out, config_from_args(args), progress=progress,
                               model_id=args.model_id, description=args.description, scheduler=args.scheduler,
                               workers=args.workers, litert=args.litert)
    except SerError as exc:
        progress.close()
        print(f"ser-train: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.close()
        print("ser-train: interrupted; no model was written", file=sys.stderr)
        return 130
    progress.close()
    rep = outcome.report
    for res in rep["evaluation"].get("modes", {}).values():
        acc, f1, uar = res["accuracy"], res["macro_f1"], res["uar"]
        print(f"{res['title']}: accuracy {acc['mean']:.1%} ± {acc['std']:.1%}, macro-F1 {f1['mean']:.3f} ± "
              f"{f1['std']:.3f}, UAR {uar['mean']:.3f} ± {uar['std']:.3f}")
    if rep["evaluation"].get("note"):
        print(rep["evaluation"]["note"])
    if rep["skipped"]:
        print(f"{len(rep['skipped'])} files skipped (reasons in {outcome.report_dir / 'report.json'})")
    print(f"Model: {outcome.bundle_dir}\nReport: {outcome.report_dir}\n"
          f"Time: {rep['timing']['total_seconds']} s (features {rep['timing']['feature_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
