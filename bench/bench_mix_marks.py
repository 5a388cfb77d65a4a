"""Labels a session's own mix of emotions made firm: should the mix be able to lift a label's
"uncertain" mark?

    python bench/bench_mix_marks.py both_distill_ens3-0 both_distill_ens3-1 both_distill_ens3-2
    python bench/bench_mix_marks.py --report     # only rewrite the section from bench/results/mix_marks.json

When a session is lopsided, the labelling core moves every element's probabilities to the
session's own mix (``ser_engine.labelling.Labeller.adapt_mix``). That sharpens them towards the
session's common emotions, so a segment whose speech alone gave its label 40% can read 90%
under the mix and lose its "uncertain" mark. ``SegmentConfig.mix_firms=False`` keeps such a
segment uncertain: it is marked when its label's probability is below the model's threshold
under the session's mix *or* under the training data's (what its speech alone says).

Sessions: those of ``bench_honest.py`` (each actor's 60 clips once, and three lopsided ones of
4 minutes: neutral/calm/sad, angry/fearful/surprised, sad only; the same draws), of each fold's
test actors and of its validation actors, labelled by the fold models of a recorded
``bench_honest`` run through the app's path with its default settings, once with each rule.
A clip is read on the segment that covers most of it (what a user reads for it).

Rule, fixed before the runs: ``mix_firms=False`` is adopted when, on the **validation** actors'
sessions of every run, at most half of the labels it newly marks are right: the model's own
threshold is where an uncertain label is more often wrong than right, and the same is asked of
the labels this rule marks.

Also measured: a temperature on the probabilities moved to the session's mix
(``SegmentConfig.mix_temperature``), which keeps every label and softens the confidences and
shares. Rule, fixed before the runs: on the validation sessions of every run pooled, the
temperature of :data:`TEMPERATURES` with the smallest calibration error of the clips under their
session's own mix, among those whose share distance (mean of balanced and lopsided sessions)
is at most :data:`TV_TOLERANCE` above 1's; adopted when it lowers that error on every run's
validation sessions.
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

RESULTS = REPO / "bench" / "results" / "mix_marks.json"
#: Temperatures of the probabilities moved to a session's own mix (SegmentConfig.mix_temperature).
TEMPERATURES = (1.0, 1.25, 1.5, 2.0, 3.0)
#: A temperature may cost at most this much share distance on validation (mean of balanced and
#: lopsided sessions) against 1.
TV_TOLERANCE = 0.01


def clip_marks(segments, clips):
    """Per clip: ``(found, right, marked)`` as a user reads it (the covering segment)."""
    from bench.sessions import covering_segments

    out = []
    for seg, clip in zip(covering_segments(segments, clips), clips, strict=True):
        found = seg is not None
        out.append((found, found and seg.label == clip.emotion, found and bool(seg.uncertain)))
    return out


def clip_confidences(segments, clips):
    """Per clip: the confidence shown on its covering segment (None: not found)."""
    from bench.sessions import covering_segments

    return [None if seg is None else seg.confidence for seg in covering_segments(segments, clips)]


def score_run(run):
    """Every session of ``run`` (``NAME-SEED``) labelled under both rules: a list of rows."""
    from bench.bench_honest import DATA, SESSIONS, SKEWED_MINUTES, FoldBundle, saved_run, validation_actors
    from bench.sessions import one_speaker, true_shares, tv_distance
    from ser_engine.predictor import Predictor
    from ser_engine.segments import SegmentConfig, label_recording, read_recording
    from training.dataset import discover
    from training.evaluate import actor_folds

    name, seed = run.rsplit("-", 1)
    seed = int(seed)
    cfg, cv = saved_run(name, seed)
    actors = discover(DATA).actors
    folds = actor_folds(actors, cfg.folds)
    val = validation_actors(actors, folds, cfg)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ser-mix-marks-") as tmp:
        for k, test_actors in enumerate(folds):
            predictor = Predictor(FoldBundle(cv.models[k], cfg, cv.temperatures, memo=True))
            for role, group in (("test", test_actors), ("validation", val(k))):
                for actor in group:
                    for s, (kind, emotions, skewed) in enumerate(SESSIONS):
                        session = one_speaker(actor, emotions=emotions, seed=seed * 100 + s,
                                              minutes=SKEWED_MINUTES if skewed else None)
                        wav = session.write(Path(tmp) / f"a{actor}-{s}.wav")
                        read = read_recording(predictor, wav, content_hash=False)
                        row = dict(run=run, fold=k, role=role, actor=actor, kind=kind, skewed=skewed)
                        truth = true_shares(session.clips, predictor.labels)
                        row["temperature"] = {}
                        for t in TEMPERATURES:
                            tl = label_recording(predictor, read, None, config=SegmentConfig(mix_temperature=t))
                            row["temperature"][str(t)] = {
                                "confidence": clip_confidences(tl.segments, session.clips),
                                "marked": [m for _, _, m in clip_marks(tl.segments, session.clips)],
                                "tv": tv_distance(tl.probabilities, truth)}
                            if t == 1.0:  # the moved probabilities as they are: what the mix_firms rule was read at
                                row["firms"] = clip_marks(tl.segments, session.clips)
                                row["confidence"] = clip_confidences(tl.segments, session.clips)
                                row["mix"] = tl.emotion_mix
                        alone = label_recording(predictor, read, None,
                                                config=SegmentConfig(mix_firms=False, mix_temperature=1.0))
                        row["alone"] = clip_marks(alone.segments, session.clips)
                        predictor.model.forget()
                        rows.append(row)
                        print(f"{run} fold {k} {role} actor {actor} {kind}: mix {row['mix']}", flush=True)
    return rows


def figures(rows):
    """Pooled over ``rows``: clips, and under each rule the share wrong and not marked, the share
    marked; and the labels the second rule newly marks, right and wrong."""
    a = np.array([c for r in rows for c in r["firms"]], bool).reshape(-1, 3)
    b = np.array([c for r in rows for c in r["alone"]], bool).reshape(-1, 3)
    if not len(a):
        return None
    found, right = a[:, 0], a[:, 1]
    new = b[:, 2] & ~a[:, 2]
    return dict(clips=len(a), wrong_firm=float((found & ~right & ~a[:, 2]).mean()),
                wrong_firm_alone=float((found & ~right & ~b[:, 2]).mean()),
                marked=float(a[:, 2][found].mean()), marked_alone=float(b[:, 2][found].mean()),
                accuracy=float(right.mean()), newly=int(new.sum()), newly_right=int((new & right).sum()))


#: Bins of the confidence shown, for the reliability table.
CONFIDENCE_BINS = (0.0, 0.53, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)
BIN_EDGES = list(zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:], strict=True))


def reliability(rows, temperature=None):
    """Per bin of the confidence shown: ``(clips, share right)`` of the found clips of ``rows``,
    as labelled by the run's settings, or under ``temperature`` of the moved probabilities."""
    def shown(r):
        return r["confidence"] if temperature is None else r["temperature"][str(temperature)]["confidence"]

    pairs = [(c, right) for r in rows for c, (_, right, _) in zip(shown(r), r["firms"], strict=True)
             if c is not None]
    out = []
    for lo, hi in BIN_EDGES:
        sel = [right for c, right in pairs if lo <= c < hi]
        out.append((len(sel), float(np.mean(sel)) if sel else None))
    return out


def reliability_table(saved):
    """What a confidence means in sessions labelled under their own mix (as the runs labelled
    them, and at the app's temperature today) and under the training data's, test actors of every
    run pooled."""
    from ser_engine.segments import SegmentConfig

    rows = [r for run in saved["runs"].values() for r in run if r["role"] == "test" and "confidence" in r]
    if not rows:
        return []
    own = [r for r in rows if r["skewed"] and r["mix"] == "recording"]
    then = sorted({saved.get("temperature", {}).get(run, 1.0) for run in saved["runs"]})
    now = SegmentConfig().mix_temperature
    groups = [(f"lopsided, own mix, temperature {', '.join(f'{t:g}' for t in then)}", own, None)]
    if then != [now] and "temperature" in own[0]:
        groups.append((f"lopsided, own mix, temperature {now:g} (the app's)", own, now))
    groups.append(("balanced, training data's mix",
                   [r for r in rows if not r["skewed"] and r["mix"] != "recording"], None))
    edges = [f"{lo:.0%}–{min(hi, 1):.0%}" for lo, hi in BIN_EDGES]
    lines = ["", "What the confidence shown means (test actors, every run pooled; sessions labelled under their "
             "own mix, and balanced sessions the app left under the training data's): clips, share right.", "",
             "| Confidence shown | " + " | ".join(f"{name} ({len(rs)} sessions)" for name, rs, _ in groups) + " |",
             "|---|" + "---|" * len(groups)]
    tables = [reliability(rs, t) for _, rs, t in groups]
    for i, edge in enumerate(edges):
        cells = [f"{n}, {acc:.0%}" if acc is not None else "—" for n, acc in (t[i] for t in tables)]
        lines.append(f"| {edge} | " + " | ".join(cells) + " |")
    return lines


def ece(pairs, bins=10):
    """Expected calibration error of ``(confidence, right)`` pairs (equal-width bins)."""
    if not pairs:
        return float("nan")
    conf = np.array([c for c, _ in pairs])
    right = np.array([r for _, r in pairs], float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(conf[idx == b].mean() - right[idx == b].mean()) * (idx == b).sum()
                     for b in range(bins) if (idx == b).any()) / len(conf))


def temperature_figures(rows, t):
    """Under temperature ``t``: the ECE of the found clips of sessions under their own mix, the
    share of those clips marked, their wrong-and-not-marked share, and the share distances
    (balanced sessions, lopsided ones)."""
    own = [r for r in rows if r["mix"] == "recording"]
    pairs, marked, wrong_firm = [], [], []
    for r in own:
        g = r["temperature"][str(t)]
        for c, m, (found, right, _) in zip(g["confidence"], g["marked"], r["firms"], strict=True):
            if c is not None:
                pairs.append((c, right))
                marked.append(m)
            wrong_firm.append(found and not right and not m)
    tv = [np.mean([r["temperature"][str(t)]["tv"] for r in rows if r["skewed"] == s] or [np.nan])
          for s in (False, True)]
    return dict(ece=ece(pairs), marked=float(np.mean(marked)) if marked else float("nan"),
                wrong_firm=float(np.mean(wrong_firm)) if wrong_firm else float("nan"), tv_balanced=float(tv[0]),
                tv_lopsided=float(tv[1]))


def chosen_temperature(saved):
    """The rule fixed before the runs (module docstring): ``(temperature, adopted)``."""
    runs = [rows for rows in saved["runs"].values() if rows and "temperature" in rows[0]]
    if not runs:
        return None, False
    val = [[r for r in rows if r["role"] == "validation"] for rows in runs]
    pooled = [r for rows in val for r in rows]
    figs = {t: temperature_figures(pooled, t) for t in TEMPERATURES}
    tv = {t: (f["tv_balanced"] + f["tv_lopsided"]) / 2 for t, f in figs.items()}
    allowed = [t for t in TEMPERATURES if tv[t] <= tv[1.0] + TV_TOLERANCE]
    best = min(allowed, key=lambda t: figs[t]["ece"])
    every = all(temperature_figures(rows, best)["ece"] < temperature_figures(rows, 1.0)["ece"] for rows in val)
    return best, best != 1.0 and every


def temperature_table(saved):
    runs = [rows for rows in saved["runs"].values() if rows and "temperature" in rows[0]]
    if not runs:
        return []
    best, adopted = chosen_temperature(saved)
    lines = ["", "**Softening the moved probabilities** (`SegmentConfig.mix_temperature`; labels do not change, "
             "confidences and shares move towards even). Clips of the sessions labelled under their own mix; "
             "share distance over every session (balanced / lopsided), every run pooled. Rule, fixed before the "
             f"runs: on validation, the temperature with the smallest calibration error (ECE, 10 bins) among "
             f"those costing at most {TV_TOLERANCE} of share distance (mean of balanced and lopsided) against 1; "
             "adopted when it lowers the ECE on every run's validation sessions.", "",
             "| Temperature | Actors | ECE | Marked | Wrong, not marked | Share distance, balanced / lopsided |",
             "|---|---|---|---|---|---|"]
    for role in ("validation", "test"):
        pooled = [r for rows in runs for r in rows if r["role"] == role]
        for t in TEMPERATURES:
            f = temperature_figures(pooled, t)
            lines.append(f"| {t:g} | {role} | {f['ece']:.3f} | {f['marked']:.1%} | {f['wrong_firm']:.1%} | "
                         f"{f['tv_balanced']:.3f} / {f['tv_lopsided']:.3f} |")
    lines += ["", f"Chosen on validation: **{best:g}**, {'adopted' if adopted else 'not adopted'} "
              f"(`SegmentConfig.mix_temperature` {best if adopted else 1.0:g} in the app)."]
    return lines


def report(saved):
    runs = sorted(saved["runs"])
    then = ", ".join(sorted({f"{t:g}" for t in saved.get("temperature", {}).values()}) or ["1"])
    lines = [__doc__.split("\n\n", 2)[2].strip(), "", f"Both rules at the runs' mix temperature ({then}).", "",
             "| Run | Actors | Sessions | Clips | Accuracy | Wrong, not marked: mix may lift the mark / may not | "
             "Marked: may / may not | Labels newly marked: right of all |", "|---|---|---|---|---|---|---|---|"]
    verdict = []
    for run in runs:
        for role in ("validation", "test"):
            for part, sel in (("all", None), ("lopsided", True)):
                rows = [r for r in saved["runs"][run] if r["role"] == role and (sel is None or r["skewed"] == sel)]
                f = figures(rows)
                if f is None:
                    continue
                share = f"{f['newly_right']} of {f['newly']}" + (f" ({f['newly_right'] / f['newly']:.0%})"
                                                                  if f["newly"] else "")
                lines.append(f"| `{run}` | {role} | {part} ({len(rows)}) | {f['clips']} | {f['accuracy']:.1%} | "
                             f"{f['wrong_firm']:.1%} / {f['wrong_firm_alone']:.1%} | {f['marked']:.1%} / "
                             f"{f['marked_alone']:.1%} | {share} |")
                if role == "validation" and part == "all":
                    verdict.append(f["newly"] == 0 or f["newly_right"] <= f["newly"] / 2)
    adopted = bool(verdict) and all(verdict)
    lines += ["", f"Verdict (validation, every run): **{'adopted' if adopted else 'not adopted'}** "
              f"(`SegmentConfig.mix_firms` {'False' if adopted else 'True'} in the app)."]
    return "\n".join(lines + reliability_table(saved) + temperature_table(saved))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="*", metavar="RUN", help="bench_honest runs with saved fold models (NAME-SEED)")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}, "commits": {}}
    from ser_engine.segments import SegmentConfig

    for run in args.runs:
        saved["runs"][run] = score_run(run)
        saved["commits"][run] = commit()
        saved.setdefault("temperature", {})[run] = SegmentConfig().mix_temperature  # what "firms"/"alone" used
        RESULTS.write_text(json.dumps(saved))
    stamps = "; ".join(f"`{r}` {c}" for r, c in sorted(saved["commits"].items()))
    body = report(saved) + "\n\nEach run's commit: " + stamps
    write_section("bench_mix_marks", "Labels a session's own mix made firm", body, "bench/bench_mix_marks.py")
    print(body)


if __name__ == "__main__":
    main()
