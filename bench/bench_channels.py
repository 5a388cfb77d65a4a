"""Robustness across recordings: the candidates' fold models on channel-shifted copies of their
own test actors' clips, labelled through the app's path.

    python bench/bench_channels.py [--candidates NAME ...] [--seeds 0] [--actors-per-fold 1]

A front end that wins on one recording set and loses on the next is no win for a clinic. Each
recorded run of bench/bench_honest.py keeps its five fold models; here each one labels clips of
actors of its own test fold (never heard in training; every other clip of the first test actor of
each fold) after one of these channels:

- **telephone**: band 300-3,400 Hz (4th-order Butterworth) and 8 kHz sampling (soxr down and up);
- **laptop microphone**: a small capsule's response: high-pass 200 Hz, a +6 dB presence peak at
  3 kHz, low-pass 7 kHz (second-order sections, scipy);
- **MP3** and **Opus**: a round trip through libsndfile's encoders at compression level 0.99
  (about 20 and 10 kbit/s);
- **-20 dB**: the same recording 20 dB quieter;
- **reverberation**: a simulated room, RT60 0.5 s (training/rooms.py, image-source method).

Every clip goes through ``Predictor.predict_array`` of the fold's model (voice activity,
features, encoder states, the labelling core), alone (global statistics) and with a speaker
baseline from all of that actor's clips in the same channel. Writes the section
"bench_channels" of BENCHMARKS.md from bench/results/channels.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import commit, write_section  # noqa: E402

RESULTS = REPO / "bench" / "results" / "channels.json"
SR = 16000
CHANNELS = ("clean", "telephone", "laptop", "mp3", "opus", "minus20db", "reverb0.5")


def _sos_peak(f0, gain_db, q, sr):
    """A peaking filter (RBJ cookbook biquad) as one second-order section."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None]


def _codec(y, fmt, subtype):
    import io

    import soundfile as sf

    from ser_engine.audio import load_audio

    buf = io.BytesIO()
    # compression level 0.99 (1.0 is refused): about 20 kbit/s MP3 and 10 kbit/s Opus for speech at 16 kHz
    sf.write(buf, y, SR, format=fmt, subtype=subtype, compression_level=0.99)
    buf.seek(0)
    tmp = Path(f"/tmp/ser-channel-{fmt}.{fmt.lower()}")
    tmp.write_bytes(buf.getvalue())
    try:
        out = load_audio(tmp, sr=SR)
    finally:
        tmp.unlink(missing_ok=True)
    return out[:len(y)] if len(out) >= len(y) else np.pad(out, (0, len(y) - len(out)))


def channel(y, name, *, seed=0):
    """``y`` (16 kHz mono) as heard through one of :data:`CHANNELS`."""
    import scipy.signal as sig

    y = np.asarray(y, np.float32)
    if name == "clean":
        return y
    if name == "telephone":
        from training.cache import telephone_band

        return telephone_band(y, sr=SR)
    if name == "laptop":
        sos = np.concatenate([sig.butter(2, 200, btype="highpass", fs=SR, output="sos"), _sos_peak(3000, 6, 1.0, SR),
                              sig.butter(2, 7000, btype="lowpass", fs=SR, output="sos")])
        return sig.sosfilt(sos, y).astype(np.float32)
    if name == "mp3":
        return _codec(y, "MP3", "MPEG_LAYER_III")
    if name == "opus":
        return _codec(y, "OGG", "OPUS")
    if name == "minus20db":
        return (y * 0.1).astype(np.float32)
    if name.startswith("reverb"):
        from training.rooms import Room, apply_room

        return apply_room(y, Room("reverb", rt60=float(name[6:])), seed=seed)
    raise ValueError(f"unknown channel {name!r}")


def score_run(name, seed, actors_per_fold, clip_step=2):
    """Accuracy per channel and normalisation of one recorded run's fold models."""
    from bench.bench_honest import FoldBundle, saved_run
    from ser_engine.audio import load_audio
    from ser_engine.baseline import global_baseline
    from ser_engine.predictor import Predictor
    from ser_engine.segments import group_stats, label_recording, recording_from_signal
    from training.dataset import discover
    from training.evaluate import actor_folds

    cfg, cv = saved_run(name, seed)
    ds = discover(REPO.parent / "shared" / "data" / "ravdess-speech-16k")
    folds = actor_folds(ds.actors, cfg.folds)
    right: dict = {}
    answers: dict = {}  # key -> each clip's answer (probabilities in label order), for ensembles
    marked: dict = {}  # key -> whether each clip's answer was marked uncertain (what the app shows)
    truth: list = []
    for k, test_actors in enumerate(folds):
        tm = cv.models[k]
        stats = tm.global_stats
        predictor = Predictor(FoldBundle(tm, cfg, cv.temperatures))
        from ser_engine.baseline import speaker_baseline

        for actor in test_actors[:actors_per_fold]:
            items = [it for it in ds.items if it.actor == actor][::clip_step]
            clips = [load_audio(it.path) for it in items]
            truth += [it.emotion for it in items]
            for ch in CHANNELS:
                # each clip read once (features, encoder states), labelled under both normalisations
                recs = [recording_from_signal(predictor, channel(y, ch, seed=i)) for i, y in enumerate(clips)]
                base = speaker_baseline(group_stats(recs), global_stats=stats, scale=cfg.speaker_scale,
                                        frame_rate=predictor.frame_rate, source="the actor's clips")
                for mode, b in (("global", global_baseline(stats)), ("speaker", base)):
                    for it, rec in zip(items, recs, strict=True):
                        tl = label_recording(predictor, rec, b)
                        right.setdefault(f"{ch}:{mode}", []).append(tl.label == it.emotion)
                        answers.setdefault(f"{ch}:{mode}", []).append(
                            [round(float(tl.probabilities.get(e, 0.0)), 5) for e in predictor.labels])
                        marked.setdefault(f"{ch}:{mode}", []).append(bool(tl.uncertain))
        print(f"{name} seed {seed} fold {k + 1} done", flush=True)
    return ({key: float(np.mean(v)) for key, v in right.items()}
            | {"n_clips": len(right["clean:global"]), "labels": list(predictor.labels), "truth": truth,
               "answers": answers, "uncertain": marked})


def ensemble(results, members):
    """Accuracy per channel and normalisation of the mean of recorded runs' answers, clip by clip
    (the runs scored the same clips in the same order)."""
    recs = [results[m] for m in members]
    if any("answers" not in r for r in recs) or len({tuple(r["truth"]) for r in recs}) != 1:
        raise SystemExit("an ensemble needs runs scored with their answers, on the same clips")
    labels = recs[0]["labels"]
    truth = np.array([labels.index(e) for e in recs[0]["truth"]])
    out = {}
    for key in recs[0]["answers"]:
        mean = np.mean([np.asarray(r["answers"][key]) for r in recs], axis=0)
        out[key] = float(np.mean(mean.argmax(axis=1) == truth))
    return out | {"n_clips": len(truth), "members": list(members)}


def table(results):
    head = ["| Candidate | Normalisation | " + " | ".join(CHANNELS) + " | Commit |",
            "|---|---|" + "---|" * len(CHANNELS) + "---|"]
    rows = []
    for run, rec in sorted(results.items(), key=lambda kv: ("+" in kv[0], kv[0])):
        for mode in ("global", "speaker"):
            cells = [f"{rec[f'{ch}:{mode}']:.1%}" for ch in CHANNELS]
            rows.append(f"| `{run}` | {'alone' if mode == 'global' else 'speaker baseline (all clips)'} | "
                        + " | ".join(cells) + f" | {rec.get('commit', '—')} |")
    return "\n".join(head + rows)


def shown_table(results):
    """For runs scored with the uncertain marks: per channel, the share of answers marked
    uncertain and the accuracy of the others (what a user reads as a firm label)."""
    head = ["| Candidate | Normalisation | " + " | ".join(CHANNELS) + " |", "|---|---|" + "---|" * len(CHANNELS)]
    rows = []
    for run, rec in sorted(results.items()):
        if "uncertain" not in rec:
            continue
        labels = rec["labels"]
        truth = np.array([labels.index(e) for e in rec["truth"]])
        for mode in ("global", "speaker"):
            cells = []
            for ch in CHANNELS:
                key = f"{ch}:{mode}"
                marked = np.array(rec["uncertain"][key])
                right = np.asarray(rec["answers"][key]).argmax(axis=1) == truth
                firm = f"{right[~marked].mean():.1%}" if (~marked).any() else "—"
                cells.append(f"{firm} ({marked.mean():.0%} marked)")
            rows.append(f"| `{run}` | {'alone' if mode == 'global' else 'speaker baseline (all clips)'} | "
                        + " | ".join(cells) + " |")
    return "\n".join(head + rows) if rows else ""


def write(results):
    n = {rec["n_clips"] for rec in results.values()}
    body = "\n".join([
        f"The fold models of each run of `bench_honest.py` label {', '.join(map(str, sorted(n)))} clips (every other "
        "clip of the first actor of each fold's test actors: never heard in training) after a channel: "
        "telephone (300-3,400 Hz at 8 kHz), a laptop microphone's response (high-pass 200 Hz, +6 dB at 3 kHz, "
        "low-pass 7 kHz), MP3 and Opus at about 20 and 10 kbit/s, 20 dB quieter, and a room with RT60 0.5 s. "
        "Each clip is read once through the app's path (voice activity, features, encoder states) and labelled "
        "by the labelling core, alone and with a baseline from all of the actor's clips in "
        "the same channel. A row `a+b` is the mean of the runs' answers, clip by clip (an ensemble of the two "
        "models). Accuracy, chance 12.5%.", "", table(results)])
    shown = shown_table(results)
    if shown:
        body += "\n\n" + "\n".join([
            "What a user reads: the accuracy of the answers **not** marked uncertain, and the share marked (below the "
            "model's calibrated threshold, too noisy, or narrow-band speech labelled without a speaker baseline: "
            "ser_engine/channel.py). Runs scored before the marks were recorded have no row.", "", shown])
    write_section("bench_channels", "Robustness across recordings (channel shifts)", body, "bench/bench_channels.py")
    return body


def _save(results):
    from ser_engine.atomic import atomic_write_text

    # one run per line: each run holds every clip's answer, too long to read as indented JSON
    atomic_write_text(RESULTS, "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in results.items())
                      + "\n}\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", nargs="+", default=["classic", "classic_skew", "encoder_skew", "both_skew"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--actors-per-fold", type=int, default=1)
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--ensemble", nargs="+", metavar="RUN", action="append", default=[],
                   help="also score the mean answer of recorded runs, e.g. classic_skew-1 encoder_skew-1")
    args = p.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.table_only:
        for name in args.candidates:
            for seed in args.seeds:
                t0 = time.perf_counter()
                rec = score_run(name, seed, args.actors_per_fold)
                rec |= {"minutes": round((time.perf_counter() - t0) / 60, 1), "commit": commit()}
                results[f"{name}-{seed}"] = rec
                _save(results)
                print(f"{name} seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in rec.items()
                                                          if isinstance(v, float)), flush=True)
    for members in args.ensemble:
        results["+".join(members)] = ensemble(results, members) | {"commit": commit()}
        _save(results)
    print(write(results))


if __name__ == "__main__":
    main()
