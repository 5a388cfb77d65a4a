"""Does the recording level change the answer? The shipped model on the same clips made
quieter or louder, labelled through the app's path.

    python bench/bench_gain.py [--actors 1-20] [--gains 0 -6 -12 -20 6]

A clinic's microphone gain is arbitrary: the same voice can arrive 10 dB quieter. Each clip
(one per emotion and actor, the first statement at normal intensity; RAVDESS actors 01-20 at
16 kHz from ../shared/data) is scaled by each gain (a louder one is skipped for an actor whose
loudest clip it would clip) and labelled through the app's path with the shipped bundle:

- **alone**: a clip under 30 s has no speaker baseline of its own, so it is normalised with the
  training data's global statistics, as a single file dropped on the window is;
- **with a speaker baseline** from the actor's 16 clips (both statements) at the same gain, as
  a folder of one speaker's clips is with "Speaker baseline" on.

The figure is **agreement**: the share of clips whose label at a gain is their label at 0 dB,
and how the labels move. Accuracy is printed too, but these actors trained the shipped model,
so it is optimistic; agreement needs no withheld actors. Writes the section "bench_gain" of
BENCHMARKS.md and bench/results/gain.json.
"""

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import commit, write_section  # noqa: E402

RESULTS = REPO / "bench" / "results" / "gain.json"
DATA = REPO.parent / "shared" / "data" / "ravdess-speech-16k"
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def _actors(text):
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def clips(actor):
    """(path, emotion, labelled): statements 1 and 2 at normal intensity, first repetition; the
    first statement's clips are labelled, all of them form the speaker's baseline."""
    out = []
    for e, name in enumerate(EMOTIONS, start=1):
        for statement in (1, 2):
            found = sorted((DATA / f"Actor_{actor:02d}").glob(f"03-01-{e:02d}-01-0{statement}-01-{actor:02d}.flac"))
            out += [(found[0], name, statement == 1)] if found else []
    return out


def measure(predictor, actors, gains):
    """One row per labelled clip: its label at each gain, alone and with the speaker's baseline
    (the actor's 16 clips at that gain)."""
    from ser_engine.audio import load_audio
    from ser_engine.segments import SegmentConfig, label_recording, recording_from_signal

    cfg = SegmentConfig()
    rows = []
    for actor in actors:
        items = clips(actor)
        signals = [load_audio(path, sr=predictor.config.sample_rate) for path, _, _ in items]
        loudest = max(float(np.max(np.abs(y))) for y in signals)
        actor_rows = [{"file": path.name, "actor": actor, "truth": truth, "alone": {}, "speaker": {}}
                      for path, truth, labelled in items if labelled]
        for g in gains:
            scale = 10 ** (g / 20)
            if loudest * scale >= 1.0:  # the actor's loudest clip would clip: not a gain a recorder would keep
                continue
            recs = [recording_from_signal(predictor, (y * scale).astype(np.float32), path=path.name, config=cfg)
                    for (path, _, _), y in zip(items, signals, strict=True)]
            baseline = predictor.group_baseline(recs, source=f"actor {actor:02d}'s 16 clips")
            labelled = [rec for rec, (_, _, lab) in zip(recs, items, strict=True) if lab]
            for row, rec in zip(actor_rows, labelled, strict=True):
                row["alone"][str(g)] = label_recording(predictor, rec, None, config=cfg).label
                row["speaker"][str(g)] = label_recording(predictor, rec, baseline, config=cfg).label
        rows += actor_rows
        print(f"actor {actor:02d}: " + "; ".join(f"{r['truth']} {r['alone']} {r['speaker']}" for r in actor_rows[:2]),
              flush=True)
    return rows


def summarise(rows, gains):
    out = {}
    for mode in ("alone", "speaker"):
        for g in gains:
            have = [r[mode] for r in rows if str(g) in r[mode] and "0" in r[mode]]
            truth = [r["truth"] for r in rows if str(g) in r[mode] and "0" in r[mode]]
            same = sum(h[str(g)] == h["0"] for h in have)
            right = sum(h[str(g)] == t for h, t in zip(have, truth, strict=True))
            moves = collections.Counter(f"{h['0']}→{h[str(g)]}" for h in have if h[str(g)] != h["0"])
            out[f"{mode} {g:g}"] = {"n": len(have), "agreement": same / max(len(have), 1),
                                    "accuracy": right / max(len(have), 1), "moves": dict(moves.most_common(3))}
    return out


def write(results):
    s, gains = results["summary"], results["gains"]
    lines = [f"Model `{results['model_id']}`; {results['clips']} clips (one per emotion of actors "
             f"{results['actors']}: statement 1, normal intensity), through the app's labelling path "
             f"(`recording_from_signal`, `label_recording`); {results['seconds'] / 60:.0f} min.", "",
             "| gain | normalisation | clips | same label as at 0 dB | accuracy (training actors: optimistic) "
             "| most common changes |", "|---|---|---|---|---|---|"]
    names = {"alone": "alone (global statistics)", "speaker": "speaker baseline (the actor's 16 clips)"}
    for g in gains:
        for mode in ("alone", "speaker"):
            r = s[f"{mode} {g:g}"]
            moves = ", ".join(f"{k} ({v})" for k, v in r["moves"].items()) or "—"
            lines.append(f"| {g:+g} dB | {names[mode]} | {r['n']} | {r['agreement']:.1%} | {r['accuracy']:.1%} "
                         f"| {moves} |")
    worst = min(gains)
    lines += ["", "A gain is left out for an actor whose loudest clip it would clip. A recording of 30 s and more is "
              "its own speaker baseline.", "",
              f"What it means: a clip labelled alone reads the recording's level as part of the voice, so its label "
              f"follows the microphone gain ({1 - s[f'alone {worst:g}']['agreement']:.0%} of the labels change "
              f"{-worst:g} dB quieter); a speaker baseline takes the level out "
              f"({s[f'speaker {worst:g}']['agreement']:.1%} unchanged at {worst:+g} dB). Single clips of a speaker "
              "recorded at an unknown gain should be labelled as a group (Speaker baseline) or against a neutral "
              "reference."]
    write_section("bench_gain", "Recording level: the same clips quieter and louder", "\n".join(lines),
                  "bench/bench_gain.py", measured=results["commit"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--actors", default="1-20", help="a range of RAVDESS actors (default 1-20)")
    p.add_argument("--gains", type=float, nargs="+", default=[0, -6, -12, -20, 6])
    args = p.parse_args(argv)
    from ser_engine.bundle import load_bundle
    from ser_engine.paths import shipped_model_dir
    from ser_engine.predictor import Predictor

    gains = sorted(set(args.gains) | {0.0}, key=lambda g: (g != 0, -g))
    predictor = Predictor(load_bundle(shipped_model_dir()))
    t0 = time.perf_counter()
    rows = measure(predictor, _actors(args.actors), gains)
    results = {"model_id": predictor.bundle.model_id, "actors": args.actors, "clips": len(rows), "gains": gains,
               "seconds": time.perf_counter() - t0, "summary": summarise(rows, gains), "rows": rows,
               "commit": commit()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    write(results)
    print(json.dumps(results["summary"], indent=1))


if __name__ == "__main__":
    main()
