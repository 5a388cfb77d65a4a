"""``ser``: label recordings from the command line.

    ser predict PATH... [--json] [--segments] [--speakers N|auto]
                        [--speaker-baseline | --reference FILE [--reference-span A-B] | --global]
                        [--training-mix] [--model BUNDLE]
    ser batch DIR --out FILE_OR_FOLDER [--format csv|json|textgrid|audacity|eaf] [--workers N | --scheduler ADDR]
    ser info [--model BUNDLE]
    ser report FILE [--out REPORT.pdf] [--model BUNDLE]

Every file goes through the one labelling core, whatever the options: voice activity, 3 s
windows, smoothed segments with "no speech" stretches, streamed block by block. Plain output
is one tab-separated line per file — path, label, confidence (the label's share of the
speech time), "uncertain" or "-", the normalisation used and the emotion mix assumed — and ``--segments`` adds the
segments under it; ``--json`` prints the timeline schema (``Timeline.to_dict``), one object
per line, segments included.

Normalisation: by default a recording with 30 s of speech or more is its own speaker
baseline, shorter ones use the training data's statistics; ``--speaker-baseline`` makes the
clips of each folder one speaker; ``--reference`` takes the baseline from a file (or a
stretch of it) of the same speaker; ``--global`` never adapts. A speaker baseline from less
than 10 s of speech is refused, and the output says so.

Emotion mix: a recording (or a speaker) with 30 s of speech or more whose speech is clearly
lopsided (its own mix explains it better than the training data's by an evidence gate) is
labelled under that mix, so that a session that is mostly sad reads mostly sad instead of being
pulled towards the training data's even mix; ``--training-mix`` keeps the
training data's. The plain output's last column says which one a result assumes.

Exit status: 0 when every file was labelled, 2 when any failed (each failure is still
reported, and the others are labelled), 1 when nothing could start (e.g. no model).
"""

import argparse
import json
import logging
import os
import sys

from . import __version__
from .audio import iter_audio_files
from .errors import SerError
from .runtime import quiet_tensorflow

EXIT_OK, EXIT_FATAL, EXIT_SOME_FAILED = 0, 1, 2


def build_parser():
    parser = argparse.ArgumentParser(prog="ser", description="Speech emotion recognition, offline.")
    parser.add_argument("--version", action="version", version=f"SER Studio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="label audio files (folders are walked)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="JSON Lines, one object per file")
    norm = p.add_mutually_exclusive_group()
    norm.add_argument("--speaker-baseline", action="store_true",
                      help="treat the clips of each folder as one speaker (normalise by their statistics)")
    norm.add_argument("--reference", metavar="FILE",
                      help="normalise every file by this speaker's reference recording (e.g. neutral talk)")
    norm.add_argument("--global", dest="global_only", action="store_true",
                      help="always the training data's statistics (no speaker adaptation)")
    p.add_argument("--reference-span", metavar="A-B", type=_span,
                   help="use only seconds A to B of the --reference file")
    p.add_argument("--training-mix", action="store_true",
                   help="label long recordings under the training data's mix of emotions (neutral half as common as each other emotion, otherwise even) "
                        "instead of their own, estimated from their speech")
    p.add_argument("--segments", action="store_true",
                   help="also print each file's labelled segments (incl. no speech)")
    p.add_argument("--speakers", type=_speakers, default=1, metavar="N|auto",
                   help="how many people speak in each recording (default 1); 'auto' estimates it (less "
                        "reliable). With more than one, each segment and each speaker get their own answer")
    p.add_argument("--model", metavar="BUNDLE", help="a model bundle folder or .zip instead of the active one")
    b = sub.add_parser("batch", help="analyse a folder into one CSV/JSON file or a folder of exports (resumable)")
    b.add_argument("root", metavar="DIR")
    b.add_argument("--out", required=True, metavar="FILE",
                   help="output file (csv, json) or folder (textgrid, audacity, eaf); an existing one is resumed")
    b.add_argument("--format", default=None, choices=("csv", "json", "textgrid", "audacity", "eaf"),
                   help="default: from --out's extension (.json -> json), else csv")
    b.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes on this machine (a local Dask cluster on loopback); default 1: this process")
    b.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="analyse on a running Dask cluster; its workers must read DIR and the model at the same paths")
    b.add_argument("--model", metavar="BUNDLE")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    r = sub.add_parser("report", help="write a recording's session report (PDF) with its saved clinician review")
    r.add_argument("path", metavar="FILE")
    r.add_argument("--out", metavar="REPORT.pdf", help="default: FILE's name + .report.pdf in the current folder")
    r.add_argument("--model", metavar="BUNDLE", help="a model bundle folder or .zip instead of the active one")
    i = sub.add_parser("info", help="show the model card summary")
    i.add_argument("--model", metavar="BUNDLE")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    quiet_tensorflow()
    try:
        if args.command == "info":
            return _info(args)
        if args.command == "batch":
            return _batch(args)
        if args.command == "report":
            return _report(args)
        return _predict(args)
    except SerError as exc:
        print(f"ser: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ser predict ... | head`: the reader left, nothing to report
        # Python's advice: point stdout at devnull so the flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _info(args):
    from .models import resolve_bundle

    bundle, warning = resolve_bundle(args.model)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    print(model_summary(bundle))
    return EXIT_OK


def model_summary(bundle):
    """A few lines about a bundle: id, labels, data, headline figures."""
    m = bundle.manifest
    lines = [f"Model: {bundle.model_id} (version {bundle.version})",
             f"Source: {bundle.source}",
             f"Labels: {', '.join(bundle.labels)}"]
    data = m.get("training_data", {})
    if data:
        lines.append(f"Trained on: {data.get('description', '?')} ({data.get('files', '?')} files, "
                     f"{len(data.get('actors', []))} actors)")
    ev = m.get("evaluation", {})
    for mode, res in ev.get("modes", {}).items():
        acc, f1, uar = res["accuracy"], res["macro_f1"], res["uar"]
        lines.append(f"{ev.get('protocol', 'evaluation')}, {res['title']}: accuracy {acc['mean']:.1%} ± "
                     f"{acc['std']:.1%}, macro-F1 {f1['mean']:.3f}, UAR {uar['mean']:.3f}")
    if not ev.get("modes"):
        lines.append("No cross-validated evaluation in this bundle.")
    first = next((ln for ln in bundle.card.splitlines() if ln.startswith("## Limits")), None)
    if first:
        idx = bundle.card.splitlines().index(first)
        limits = [ln for ln in bundle.card.splitlines()[idx + 1:idx + 6] if ln.strip().startswith("-")]
        lines += ["Limits:"] + [f"  {ln.strip()}" for ln in limits]
    return "\n".join(lines)


def _speakers(text):
    """``"2"`` -> 2, ``"auto"`` -> None (estimated), for ``--speakers``."""
    if text == "auto":
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of speakers (1, 2, ...) or 'auto'")
    return n


def _span(text):
    """``"12.5-40"`` -> ``(12.5, 40.0)`` for ``--reference-span``."""
    try:
        a, b = (float(x) for x in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a span of seconds like 12.5-40") from None
    if not 0 <= a < b:
        raise argparse.ArgumentTypeError(f"{text!r}: the span must start at 0 or later and end after it starts")
    return a, b


def _predict(args):
    from .baseline import REFUSED
    from .channel import quiet_speech_reason
    from .predictor import Predictor
    from .results import describe_mix, speaker_name
    from .segments import SegmentConfig

    if args.reference_span and not args.reference:
        print("ser: --reference-span needs --reference FILE", file=sys.stderr)
        return EXIT_FATAL
    paths = list(iter_audio_files(args.paths))
    if not paths:
        print("ser: no audio files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_SOME_FAILED
    predictor, warning = Predictor.from_path(args.model)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    baseline = predictor.reference_baseline(args.reference, span=args.reference_span) if args.reference else None
    config = SegmentConfig(baseline="global" if args.global_only else "auto", speakers=args.speakers,
                           mix="training" if args.training_mix else "auto")
    results = predictor.predict_many(paths, speaker_baseline=args.speaker_baseline, baseline=baseline,
                                     config=config)
    failed = 0
    refused = set()
    for res in results:
        failed += not res.ok
        note = res.normalisation.note if res.ok else None
        if note and note.startswith(REFUSED) and note not in refused:  # once for a group's baseline
            refused.add(note)
            print(f"warning: {note}", file=sys.stderr)
        quiet = quiet_speech_reason(res) if res.ok else None
        if quiet:
            print(f"warning: {res.path}: {quiet}", file=sys.stderr)
        if args.json:
            print(json.dumps(res.to_dict(segments=True), ensure_ascii=False), flush=True)
        elif res.ok:
            conf = "-" if res.confidence is None else f"{res.confidence:.2f}"
            flag = "uncertain" if res.uncertain else "-"
            print(f"{res.path}\t{res.label}\t{conf}\t{flag}\t{res.normalisation.describe()}\t"
                  f"{describe_mix(res.emotion_mix) or '-'}", flush=True)
            for sp in res.speakers:
                sconf = "-" if sp.confidence is None else f"{sp.confidence:.2f}"
                print(f"  {sp.name}\t{sp.label}\t{sconf}\t{'uncertain' if sp.uncertain else '-'}\t"
                      f"{sp.speaking_seconds:.1f} s in {sp.turns} turns\t{sp.normalisation.describe()}\t"
                      f"{describe_mix(sp.emotion_mix)}", flush=True)
            if args.segments:
                for s in res.segments:
                    sconf = "-" if s.confidence is None else f"{s.confidence:.2f}"
                    who = "" if s.speaker is None else f"\t{speaker_name(s.speaker)}"
                    print(f"    {s.start:8.2f}–{s.end:8.2f} s\t{s.label}\t{sconf}{who}", flush=True)
        else:
            print(f"{res.path}\tERROR\t{res.error}", flush=True)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _batch(args):
    from .batch import run_batch

    fmt = args.format or ("json" if str(args.out).lower().endswith((".json", ".jsonl")) else "csv")
    if args.workers < 1:
        print("ser: --workers must be at least 1", file=sys.stderr)
        return EXIT_FATAL
    if args.scheduler and args.workers != 1:
        print("ser: --workers is for this machine; with --scheduler the cluster's own workers analyse", file=sys.stderr)
        return EXIT_FATAL
    report = run_batch(args.root, args.out, fmt=fmt, workers=args.workers, scheduler=args.scheduler, model=args.model,
                       progress=not args.no_progress)
    if report.total == 0:
        print(f"ser: no audio files found in {args.root}", file=sys.stderr)
        return EXIT_SOME_FAILED
    retried = f", {report.retried} retried after their Dask worker died" if report.retried else ""
    print(f"{report.done} analysed, {report.skipped} already in {args.out}, {report.failed} failed{retried}",
          file=sys.stderr)
    return EXIT_SOME_FAILED if report.failed else EXIT_OK


def _report(args):
    """Analyse FILE with the model (with the number of speakers its review remembers, as the
    window does), read its saved review by content hash and write the PDF session report."""
    from pathlib import Path

    from .errors import AudioLoadError
    from .predictor import Predictor
    from .report import check_destination, write_report
    from .review import ESTIMATE, for_timeline, load_review
    from .segments import SegmentConfig, file_sha256

    audio = Path(args.path)
    out = Path(args.out) if args.out else Path.cwd() / f"{audio.stem}.report.pdf"
    check_destination(out)  # before the analysis, which can take minutes
    try:
        sha = file_sha256(audio)
    except OSError as exc:
        raise AudioLoadError(audio, f"cannot be read ({exc.strerror or exc})") from None
    count = load_review(audio, sha256=sha).speaker_count
    predictor, warning = Predictor.from_path(args.model)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    config = SegmentConfig(speakers=None if count == ESTIMATE else (count or 1))
    timeline = predictor.predict_file(audio, config=config)
    write_report(timeline, for_timeline(timeline), predictor.bundle, out)
    print(out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
