"""The patient's profile in a two-voice session: what the speaker step changes for a clinician.

    python bench/bench_patient.py [--run NAME-SEED]

Sessions of two of a fold's own test actors (never heard by its model): a "patient" across all
eight emotions and a "clinician" speaking only calm and neutral clips, taking turns of one or
two clips (2-6 s) with 0.5-2 s pauses; in each fold two male/female pairs and two same-sex
pairs. Each session is labelled by the fold's model (a run recorded by bench_honest.py, its
fold models kept) through ``analyse_recording`` with the app's default settings:

- **one speaker** (the default today): the session's answer mixes both voices;
- **two speakers** (``--speakers 2``, the count given): the patient's own answer;
- **speakers estimated** (``--speakers estimate``): the patient's own answer when two are
  found, else the one speaker's (both voices mixed).

Scores: the total variation distance between the patient's answer (each emotion's share of
their speech time) and the true shares of the patient's clips; the share of speech time given to
the right speaker (best mapping); the patient's clip accuracy. Writes the section "bench_patient"
of BENCHMARKS.md from bench/results/patient.json.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import commit, write_section  # noqa: E402

RESULTS = REPO / "bench" / "results" / "patient.json"


def session_of(patient, clinician, *, seed, clips=20):
    """Turns of one or two clips each, the patient's across all emotions, the clinician's calm."""
    from bench.sessions import actor_clips, assemble

    rng = np.random.default_rng(seed)
    p_clips = [actor_clips(patient)[i] for i in rng.permutation(60)[:clips]]
    c_pool = actor_clips(clinician, ("calm", "neutral"))
    items, k, who = [], 0, 1
    while k < len(p_clips):
        who = 1 - who
        for _ in range(int(rng.integers(1, 3))):
            if who == 0 and k < len(p_clips):
                items.append((p_clips[k], 0, -26.0))
                k += 1
            elif who == 1:
                items.append((c_pool[int(rng.integers(len(c_pool)))], 1, -26.0))
    return assemble(items, pause=(0.5, 2.0), seed=seed)


def attribution(tl, session):
    """``(share of speech time on the right speaker, speaker index the patient got)``."""
    best = (0.0, 0)
    for patient_index in (0, 1):
        right = total = 0.0
        for c in session.clips:
            for s in tl.segments:
                ov = min(s.end, c.end) - max(s.start, c.start)
                if ov > 0 and s.speaker is not None:
                    total += ov
                    right += ov * ((s.speaker == patient_index) == (c.speaker == 0))
        best = max(best, (right / total if total else 0.0, patient_index))
    return best


def score(run):
    import types

    import keras

    from bench.bench_honest import MODELS, FoldBundle
    from bench.sessions import clip_accuracy, true_shares, tv_distance
    from ser_engine.normalise import FeatureStats
    from ser_engine.predictor import Predictor
    from ser_engine.segments import SegmentConfig, label_recording, read_recording
    from training.config import TrainConfig
    from training.dataset import discover
    from training.evaluate import actor_folds

    folder = MODELS / run
    meta = json.loads((folder / "run.json").read_text())
    cfg = TrainConfig(**meta["config"])
    folds = actor_folds(discover(REPO.parent / "shared" / "data" / "ravdess-speech-16k").actors, cfg.folds)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ser-patient-") as tmp:
        for k, (a, b, c, d) in enumerate(folds):
            stats = FeatureStats.from_dict(json.loads((folder / f"fold{k}.json").read_text())["global"])
            tm = types.SimpleNamespace(model=keras.saving.load_model(folder / f"fold{k}.keras", compile=False),
                                       global_stats=stats)
            predictor = Predictor(FoldBundle(tm, cfg, meta["temperatures"]))
            for i, (patient, clinician) in enumerate(((a, b), (c, d), (a, c), (b, d))):
                session = session_of(patient, clinician, seed=100 * k + i)
                wav = session.write(Path(tmp) / f"s{k}{i}.wav")
                patient_clips = [x for x in session.clips if x.speaker == 0]
                truth = true_shares(patient_clips, predictor.labels)
                one = label_recording(predictor, read_recording(predictor, wav, content_hash=False), None)
                two = label_recording(predictor, read_recording(predictor, wav, config=SegmentConfig(speakers=2),
                                                                content_hash=False), None,
                                      config=SegmentConfig(speakers=2))
                right, p_index = attribution(two, session)
                found = two.speakers[p_index] if p_index < len(two.speakers) else None
                est_cfg = SegmentConfig(speakers=None)
                est = label_recording(predictor, read_recording(predictor, wav, config=est_cfg, content_hash=False),
                                      None, config=est_cfg)
                est_right, est_index = attribution(est, session) if est.speakers else (0.0, 0)
                est_patient = (est.speakers[est_index].probabilities if len(est.speakers) > 1
                               else est.probabilities)
                rows.append({"fold": k, "patient": patient, "clinician": clinician,
                             "same_sex": patient % 2 == clinician % 2,
                             "tv_one_speaker": tv_distance(one.probabilities, truth),
                             "tv_patient": tv_distance(found.probabilities, truth) if found else 1.0,
                             "attributed": right,
                             "found_estimated": max(len(est.speakers), 1),
                             "tv_patient_estimated": tv_distance(est_patient, truth),
                             "accuracy_one_speaker": clip_accuracy(one.segments, patient_clips),
                             "accuracy_two_speakers": clip_accuracy(two.segments, patient_clips),
                             "minutes": round(session.duration / 60, 2)})
                print(rows[-1], flush=True)
    return rows


def write(results):
    lines = ["| Run | Sessions | Patient profile distance: one speaker / patient's own (count given) / "
             "count estimated | Right speaker (time, count given) | Two speakers found (estimated) | "
             "Patient clips right: one speaker / two | Same-sex pairs: distance given / estimated, right speaker |",
             "|---|---|---|---|---|---|---|"]
    for run, rec in sorted(results.items()):
        rows = rec["rows"]
        ss = [r for r in rows if r["same_sex"]]

        def m(key, rs=rows):
            return float(np.mean([r[key] for r in rs]))

        est = all("tv_patient_estimated" in r for r in rows)
        lines.append(f"| `{run}` | {len(rows)} ({np.mean([r['minutes'] for r in rows]):.1f} min each) | "
                     f"{m('tv_one_speaker'):.2f} / {m('tv_patient'):.2f} / "
                     f"{m('tv_patient_estimated') if est else float('nan'):.2f} | {m('attributed'):.1%} | "
                     f"{np.mean([r['found_estimated'] == 2 for r in rows]) if est else float('nan'):.0%} | "
                     f"{m('accuracy_one_speaker'):.1%} / {m('accuracy_two_speakers'):.1%} | "
                     f"{m('tv_patient', ss):.2f} / {m('tv_patient_estimated', ss) if est else float('nan'):.2f}, "
                     f"{m('attributed', ss):.1%} |")
    body = "\n".join([
        "Two-voice sessions built from each fold's own test actors (bench/sessions.py): a patient across all eight "
        "emotions (20 clips) and a clinician speaking calm and neutral clips, turns of one or two clips with 0.5–2 s "
        "pauses; per fold two male/female and two same-sex pairs. Labelled by the fold's model (a recorded "
        "bench_honest run) through `analyse_recording` with the app's defaults, once as one speaker (the session's "
        "answer mixes both voices), with the count given (`--speakers 2`: the patient's own answer) and with it "
        "estimated (the patient's answer when two voices are found, else the mixed one). "
        "Distance: total variation between an answer and the true shares of the patient's clips (bar: 0.25).", "",
        *lines, "",
        "Each run's commit: " + "; ".join(f"`{run}` {rec.get('commit') or 'not recorded'}"
                                          for run, rec in sorted(results.items())) + "."])
    write_section("bench_patient", "The patient's profile in two-voice sessions", body, "bench/bench_patient.py")
    return body


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="both_distill_ens3-0",
                   help="a bench_honest run whose fold models are kept (default: the shipped recipe's)")
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args(argv)
    from ser_engine.atomic import atomic_write_text

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.table_only:
        results[args.run] = {"rows": score(args.run), "commit": commit()}
        atomic_write_text(RESULTS, json.dumps(results, indent=1) + "\n")
    print(write(results))


if __name__ == "__main__":
    main()
