"""Candidate recipes under the honest protocol: every speaker-baseline condition, and sessions
labelled through the app's whole path.

    python bench/bench_honest.py [--candidates NAME ...] [--seeds 0 1 2] [--jobs 1] [--table-only]

For each candidate and seed, a 5-fold cross-validation by actor on actors 01-20 (early
stopping on validation actors inside the training folds), scored by the app's labelling core
(``training.scoring``) under every baseline condition: none (global statistics), all of the
test actor's 60 clips (balanced: the optimistic case the old figures reported), low-arousal
only, high-arousal only, each single emotion, a random 20%, a neutral enrolment; in a room
(white noise 30 dB below the speech); and in rooms drawn per clip (EVAL_CHANNELS: steady noise
or reverberation), which also decide the room rule on the validation actors. Then each fold's
model labels **sessions** built from its own test actors' clips (bench/sessions.py: trimmed
clips, 1-4 s pauses), through the same ``analyse_recording`` users' files go through, with the
app's default settings (a recording with 30 s of speech or more is its own baseline) and with global statistics:

- balanced: all 60 clips of the actor, shuffled (about 6 minutes);
- skewed: only neutral/calm/sad; only angry/fearful/surprised; only sad (4 minutes each, drawn
  from those clips).

Scores: clip accuracy (the label covering most of a clip is its emotion) and the total
variation distance between the recording's answer (each emotion's share of the speech time)
and the true shares. The bar of the truthful-labels issue: skewed sessions >= 60% and >= 3
points above global statistics, share-of-time distance <= 0.35, balanced sessions >= 68%.

Runs are recorded one per line in bench/results/honest_runs.jsonl (resumable); the section
"bench_honest" of BENCHMARKS.md is rebuilt from them.
"""

import argparse
import concurrent.futures
import datetime
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_accuracy import _init_worker, load_runs, save_run  # noqa: E402
from bench.record import write_section  # noqa: E402

RESULTS = REPO / "bench" / "results" / "honest_runs.jsonl"
DATA = REPO.parent / "shared" / "data" / "ravdess-speech-16k"
#: One model, <= 40 epochs, patience 6, speed and noisy copies (the "One model per fold" preset): the screening
#: base; a candidate sets its ensemble.
BASE = dict(epochs=40, patience=6, folds=5, ensemble=1, workers=1)
EVAL_NOISE_SNRS = (30,)
#: Copies every candidate is also scored on, never trained on unless its recipe has them: each
#: clip in a room drawn for it (training.rooms.TRAINING_ROOMS: pink or brown noise 20/10/5 dB
#: below the speech, or reverberation RT60 0.3/0.8 s). Validation actors' copies decide the room
#: rule below; test actors' copies are reported.
EVAL_CHANNELS = ("room",)
#: (name, what it is, TrainConfig overrides on top of BASE)
SKEW = {"skewed_baselines": 0.5, "speaker_scale": "global"}
CLASSIC = {"front_end": {"kind": "classic"}}
CANDIDATES = [
    ("classic", "Classic frames (119 per 10 ms); baselines as before: centre and scale, all clips in training",
     {**CLASSIC, "skewed_baselines": 0.0, "speaker_scale": "speaker"}),
    ("classic_skew", "Classic frames; skewed baselines in training (half of the speaker-normalised windows), "
     "a baseline centres only (the training data's scale)", {**CLASSIC, **SKEW}),
    ("classic_distill", "Classic frames, distilled: each training target half its label, half the probabilities "
     "of a linear probe on the recording's pooled encoder states (cross-fitted by actor on the fold's training "
     "actors); skewed baselines, centre only", {**CLASSIC, **SKEW, "distill": 0.5}),
    ("encoder_skew", "Speech-encoder frames only (Whisper tiny.en, 384 per 20 ms); skewed baselines, centre only",
     {**SKEW, "front_end": {"kind": "encoder"}}),
    ("encoder_distill", "Speech-encoder frames, distilled: each training target half its label, half the "
     "probabilities of the same linear probe (cross-fitted by actor); skewed baselines, centre only",
     {**SKEW, "front_end": {"kind": "encoder"}, "distill": 0.5}),
    ("both_skew", "Classic and speech-encoder frames together (503 per 20 ms); skewed baselines, centre only",
     {**SKEW, "front_end": {"kind": "both"}}),
    ("both_distill", "Classic and speech-encoder frames, distilled from the same linear probe (half of each "
     "target); skewed baselines, centre only", {**SKEW, "front_end": {"kind": "both"}, "distill": 0.5}),
    ("both_distill_tel", "`both_distill` (classic and speech-encoder frames, distilled) with a copy of each "
     "training recording through a telephone line (300-3,400 Hz at 8 kHz) beside its speed and noisy copies",
     {**SKEW, "front_end": {"kind": "both"}, "distill": 0.5, "channels": ("telephone",)}),
    ("both_distill_room", "`both_distill` with a copy of each training recording in a room drawn for it "
     "(training.rooms.TRAINING_ROOMS: pink or brown noise 20/10/5 dB below the speech, or reverberation with "
     "RT60 0.3/0.8 s) beside its speed and noisy copies",
     {**SKEW, "front_end": {"kind": "both"}, "distill": 0.5, "channels": ("room",)}),
    ("both_distill_ens3", "`both_distill` as an ensemble of 3 (three members with other seeds, their probabilities "
     "averaged in one model): the shipped recipe and the \"Full\" preset since 2026-12-04",
     {**SKEW, "front_end": {"kind": "both"}, "distill": 0.5, "ensemble": 3}),
    ("encoder_stats", "Speech-encoder frames; the window's mean and mean square of each input value beside "
     "the attention-pooled vector (what the linear probe reads); skewed baselines, centre only",
     {**SKEW, "front_end": {"kind": "encoder"}, "pooling": "attention_stats"}),
    ("both_stats", "Classic and speech-encoder frames; the window's statistics beside attention pooling; "
     "skewed baselines, centre only", {**SKEW, "front_end": {"kind": "both"}, "pooling": "attention_stats"}),
    ("both_recipe", "The same, trained as the \"Thorough\" recipe: an ensemble of 3, <= 60 epochs, patience 12",
     {**SKEW, "front_end": {"kind": "both"}, "ensemble": 3, "epochs": 60, "patience": 12}),
]
#: The recipe each lever is judged against: (candidate, its reference), paired seed by seed.
PAIRS = [("classic_skew", "classic"), ("classic_distill", "classic_skew"), ("encoder_stats", "encoder_skew"),
         ("encoder_distill", "encoder_skew"),
         ("both_stats", "both_skew"), ("both_distill", "both_skew"), ("both_recipe", "both_skew"),
         ("both_distill_tel", "both_distill"), ("both_distill_room", "both_distill"),
         ("both_distill_ens3", "both_distill")]
#: A lever is adopted when it raises the validation figure by at least this much, on every shared seed.
ADOPT_MARGIN = 0.005
#: Where each run's fold models are kept, so its sessions can be scored again without retraining.
MODELS = Path(os.environ.get("SER_BENCH_MODELS", Path.home() / ".cache" / "ser-studio-bench" / "honest"))
#: Clips a random baseline is made of in the baseline-size sweep.
SWEEP_CLIPS = (1, 2, 3, 4, 6, 8)
CANDIDATE_BY_NAME = {n: (d, o) for n, d, o in CANDIDATES}
#: Session kinds: (name, emotions or None for all, skewed?). A balanced session is the actor's 60
#: clips once (about 6 minutes); a skewed one is drawn from the group's clips until 4 minutes
#: (a clip may come back), long enough for the app's default to make it its own baseline, as a
#: patient's session would be.
SESSIONS = [("balanced", None, False), ("low arousal", ("neutral", "calm", "sad"), True),
            ("high arousal", ("angry", "fearful", "surprised"), True), ("sad only", ("sad",), True)]
SKEWED_MINUTES = 4.0
#: Length of the long balanced sessions (scored by --rescore): the mix's evidence grows with a
#: session's length.
LONG_MINUTES = 15.0
#: The long sessions: balanced (every clip drawn alike), where a small bias of the model adds
#: evidence for an own mix with every minute.
LONG_SESSIONS = [("balanced long", None, False)]
#: Strengths of the training data's mix (seconds of speech) a session's own mix is estimated
#: with (ser_engine.labelling.recording_mix), and "off" (the training data's mix kept): each
#: session is labelled under every one. The app's is chosen on the validation actors' sessions.
MIX_GRID = ("off", 0, 10, 30, 60, 120, 300)


#: Evidence gates (ser_engine.labelling.mix_evidence, nats x seconds of speech) a session's own
#: mix is scored under, offline from the recorded evidence: -inf always uses it.
EVIDENCE_GRID = (-np.inf, 0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
#: ... and per second of speech (its rate).
RATE_GRID = (-np.inf, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def mix_key(strength):
    """The key of a strength of :data:`MIX_GRID` in a session's record."""
    return "off" if strength == "off" else f"{float(strength):g}"


class FoldBundle:
    """A fold's trained model seen as a model bundle by the app's Predictor (Keras, in memory)."""

    def __init__(self, tm, cfg, temperatures, uncertain_below=0.5, *, memo=False):
        from ser_engine import EMOTIONS
        from ser_engine.bundle import training_mix
        from ser_engine.encoder import current_spec

        self._tm, self._cfg, self._t = tm, cfg, temperatures
        self._memo = memo
        self.feature_config, self.window, self.labels = cfg.feature, cfg.window, tuple(EMOTIONS)
        self.front_end = cfg.front_end
        self.encoder_spec = current_spec() if cfg.front_end.uses_encoder else None
        self.whisper_bank = None  # librosa's, as in training
        self.global_stats = tm.global_stats
        self.uncertain_below = uncertain_below
        self.model_id, self.version = "fold-model", "bench"
        self.manifest = {"normalisation": {"speaker_scale": cfg.speaker_scale}}
        self.source, self.card = "<memory>", ""
        # RAVDESS's files per emotion (neutral has one intensity, the others two), as a bundle counts them
        self.training_mix = training_mix({"training_data": {"per_emotion": {e: 1 if e == "neutral" else 2
                                                                             for e in EMOTIONS}}}, EMOTIONS)

    def filter_banks(self):
        return None

    def load_inference_model(self, *, threads=None):
        return MemoModel(self._tm.model) if self._memo else self._tm.model

    def temperature(self, mode):
        return self._t[mode]


def _config(name, seed):
    from training.config import TrainConfig

    overrides = {**BASE, **CANDIDATE_BY_NAME[name][1], "seed": seed}
    return TrainConfig(**overrides), overrides


def _features(cfg, data):
    from training.cache import FeatureCache, extract_run_states, extract_training_features
    from training.dataset import discover

    ds = discover(data)
    snrs = tuple(dict.fromkeys(tuple(cfg.noise_snrs) + EVAL_NOISE_SNRS))
    channels = tuple(dict.fromkeys(tuple(cfg.channels) + EVAL_CHANNELS))
    feats, failures, _ = extract_training_features([it.path for it in ds.items], config=cfg.feature,
                                                   speeds=cfg.speeds, noise_snrs=snrs, pitch_steps=cfg.pitch_steps,
                                                   channels=channels, cache=FeatureCache(cfg.feature),
                                                   workers=cfg.workers)
    if failures:
        raise RuntimeError(f"unreadable training files: {sorted(map(str, failures))[:3]}")
    return ds, feats, extract_run_states(feats, cfg)


def score_sessions(cv, cfg, folds, seed, *, actors_of=None, kinds=None, minutes=None):
    """Sessions of each fold's test actors (or ``actors_of(k)``'s), labelled by that fold's model
    through the app's path (``read_recording`` and ``label_recording``): with the speaker
    baseline by default and with global statistics, each under every mix strength of
    :data:`MIX_GRID`. ``kinds``: the sessions (default :data:`SESSIONS`); ``minutes``: every
    session drawn to that length instead."""
    from bench.sessions import one_speaker, true_shares
    from ser_engine.predictor import Predictor
    from ser_engine.segments import read_recording

    out = []
    with tempfile.TemporaryDirectory(prefix="ser-honest-") as tmp:
        for k, test_actors in enumerate(folds):
            # the model's windows are the same under every mix: computed once per session
            predictor = Predictor(FoldBundle(cv.models[k], cfg, cv.temperatures, memo=True))
            for actor in (test_actors if actors_of is None else actors_of(k)):
                for s, (kind, emotions, skewed) in enumerate(kinds or SESSIONS):
                    session = one_speaker(actor, emotions=emotions, seed=seed * 100 + s,
                                          minutes=minutes or (SKEWED_MINUTES if skewed else None))
                    wav = session.write(Path(tmp) / f"a{actor}-{s}.wav")
                    truth = true_shares(session.clips, predictor.labels)
                    rec = {"fold": k, "actor": actor, "kind": kind, "skewed": skewed,
                           "minutes": round(session.duration / 60, 2), "clips": len(session.clips)}
                    read = read_recording(predictor, wav, content_hash=False)  # once, labelled many ways
                    for setting, baseline in (("default", "auto"), ("global", "global")):
                        rec[setting] = _mix_scores(predictor, read, session, truth, baseline)
                    predictor.model.forget()
                    out.append(rec)
    return out


def _mix_scores(predictor, read, session, truth, baseline):
    """One session labelled under every mix of :data:`MIX_GRID`: ``{key: scores}`` and the
    normalisation used."""
    from bench.sessions import clip_accuracy, tv_distance
    from ser_engine.segments import SegmentConfig, label_recording

    grid = {}
    for strength in MIX_GRID:
        # every own mix used whatever its evidence (recorded): a gate on it is scored from these
        config = (SegmentConfig(baseline=baseline, mix="training") if strength == "off"
                  else SegmentConfig(baseline=baseline, mix_strength=float(strength), min_mix_evidence=-np.inf,
                                     min_mix_evidence_rate=-np.inf))
        tl = label_recording(predictor, read, None, config=config)
        grid[mix_key(strength)] = {"clip_accuracy": clip_accuracy(tl.segments, session.clips),
                                   "tv_soft": tv_distance(tl.probabilities, truth),
                                   "tv_hard": tv_distance(_hard_shares(tl), truth),
                                   "confident_wrong": confident_wrong(tl.segments, session.clips),
                                   "reliability": reliability_counts(tl.segments, session.clips),
                                   "evidence": tl.mix_evidence, "speech_seconds": tl.mix_speech_seconds}
    return {"grid": grid, "normalisation": tl.normalisation.mode}


def confident_wrong(segments, clips):
    """Share of clips whose covering segment (what a user reads for them) names another emotion
    and is not marked uncertain: the errors a user is not warned of."""
    from bench.sessions import covering_segments

    cover = covering_segments(segments, clips)
    return float(np.mean([s is not None and s.label != c.emotion and not s.uncertain
                          for s, c in zip(cover, clips, strict=True)])) if clips else float("nan")


#: Confidence bins of :func:`reliability_counts` (their lower edges: 0, 0.05, ..., 0.95).
RELIABILITY_BINS = 20


def reliability_counts(segments, clips):
    """Per confidence bin of the clips' covering segments: ``[clips, clips right]`` (clips not
    found as speech left out), to choose where a session's labels turn uncertain."""
    from bench.sessions import covering_segments

    out = [[0, 0] for _ in range(RELIABILITY_BINS)]
    for seg, clip in zip(covering_segments(segments, clips), clips, strict=True):
        if seg is None or seg.confidence is None:
            continue
        b = min(int(seg.confidence * RELIABILITY_BINS), RELIABILITY_BINS - 1)
        out[b][0] += 1
        out[b][1] += int(seg.label == clip.emotion)
    return out


class MemoModel:
    """A Keras model whose batches are remembered (by their bytes) until :meth:`forget`: one
    session labelled under many mixes runs the model once."""

    def __init__(self, model):
        self._model, self._seen = model, {}
        self.output_shape = model.output_shape

    def predict_on_batch(self, batch):
        import hashlib

        key = hashlib.blake2b(np.ascontiguousarray(batch).tobytes(), digest_size=16).digest()
        if key not in self._seen:
            self._seen[key] = np.asarray(self._model.predict_on_batch(batch))
        return self._seen[key]

    def forget(self):
        self._seen.clear()


def _hard_shares(tl):
    """Each emotion's share of the speech time by the segments' labels (each segment whole)."""
    seconds = {lab: 0.0 for lab in tl.labels}
    for s in tl.segments:
        if s.is_speech:
            seconds[s.label] += s.duration
    total = sum(seconds.values()) or 1.0
    return {k: v / total for k, v in seconds.items()}


def run_one(name, seed, data):
    """Train and score one candidate with one seed; returns the JSON-ready record."""
    from training.cache import channel_key, noise_key
    from training.evaluate import actor_folds, cross_validate
    from training.scoring import recordings_of

    t0 = time.perf_counter()
    cfg, overrides = _config(name, seed)
    ds, feats, states = _features(cfg, data)
    cv = cross_validate(ds, feats, cfg, noisy_snrs=EVAL_NOISE_SNRS, copies=[channel_key(c) for c in EVAL_CHANNELS],
                        keep_models=True, states=states)
    _save_models(cv, cfg, name, seed)
    rec = {"lever": name, "seed": seed, "overrides": {k: list(v) if isinstance(v, tuple) else v
                                                       for k, v in overrides.items()},
           "date": datetime.date.today().isoformat(), "commit": _commit()}
    rec["conditions"] = {c: v["folds"] for c, v in cv.summary["conditions"].items()}
    rec["validation"] = [f["val_accuracy"] for f in cv.folds]
    rec["validation_noisy"] = {f"{snr:g}": [f["val_accuracy_extra"][noise_key(snr)] for f in cv.folds]
                               for snr in EVAL_NOISE_SNRS}
    rec["validation_channels"] = {c: [f["val_accuracy_extra"][channel_key(c)] for f in cv.folds]
                                  for c in EVAL_CHANNELS}
    rec["ece_cross_fitted"] = {m: cv.summary[m]["ece_cross_fitted"] for m in ("global", "speaker")}
    rec["temperatures"] = cv.temperatures
    rec["best_epochs"] = cv.best_epochs
    rec["train_minutes"] = round((time.perf_counter() - t0) / 60, 2)
    folds = actor_folds(ds.actors, cfg.folds)
    rec["baseline_sweep"] = baseline_sweep(cv, ds, recordings_of(feats, cfg, states=states), cfg, folds)
    rec["sessions"] = score_sessions(cv, cfg, folds, seed)
    rec["validation_sessions"] = score_sessions(cv, cfg, folds, seed,
                                                actors_of=validation_actors(ds.actors, folds, cfg))
    rec["minutes"] = round((time.perf_counter() - t0) / 60, 2)
    return rec


def baseline_sweep(cv, ds, recs, cfg, folds, *, repeats=2):
    """Accuracy on each test actor's other clips with a speaker baseline made of ``k`` random
    clips (no minimum), and the speech those clips hold: where a baseline starts to help."""
    from ser_engine.baseline import speaker_stats
    from ser_engine.segments import group_stats
    from training.scoring import accuracy, by_actor, prepare

    rng = np.random.default_rng(0)
    out = {}
    for k_fold, test_actors in enumerate(folds):
        tm = cv.models[k_fold]
        test = [it for it in ds.items if it.actor in test_actors]
        for k in SWEEP_CLIPS:
            pairs, labels, seconds = [], [], []
            for actor_items in by_actor(test).values():
                for _ in range(repeats):
                    pick = set(rng.choice(len(actor_items), k, replace=False).tolist())
                    raw = group_stats([recs[actor_items[i].path] for i in pick])
                    if raw is None:
                        continue
                    seconds.append(raw.n_frames / cfg.front_end.rate(cfg.feature))
                    stats = speaker_stats(raw, tm.global_stats, scale=cfg.speaker_scale)
                    for i, it in enumerate(actor_items):
                        if i not in pick:
                            pairs.append((recs[it.path], stats))
                            labels.append(it.label)
            sc = prepare(pairs, cfg).score(tm.model, smooth=3, rate=cfg.front_end.rate(cfg.feature))
            acc = accuracy(sc, np.array(labels), cv.temperatures["speaker"])
            rec = out.setdefault(str(k), {"accuracy": [], "speech_seconds": []})
            rec["accuracy"].append(acc)
            rec["speech_seconds"].append(float(np.mean(seconds)))
    return out


def _save_models(cv, cfg, name, seed):
    """Each fold's model and statistics, for :func:`rescore` (outside the repository)."""
    import json

    folder = MODELS / f"{name}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for k, tm in enumerate(cv.models):
        tm.model.save(folder / f"fold{k}.keras")
        (folder / f"fold{k}.json").write_text(json.dumps({"global": tm.global_stats.to_dict()}))
    (folder / "run.json").write_text(json.dumps({"config": cfg.to_dict(), "temperatures": cv.temperatures}))


def saved_run(name, seed):
    """A recorded run's fold models as :func:`_save_models` kept them: ``(cfg, cv)``, where
    ``cv.models[k]`` has the fold's ``model`` and ``global_stats`` and ``cv.temperatures`` the
    run's calibration (what :class:`FoldBundle` takes)."""
    import json
    import types

    import keras

    from ser_engine.normalise import FeatureStats
    from training.config import TrainConfig

    folder = MODELS / f"{name}-{seed}"
    if not (folder / "run.json").is_file():
        raise SystemExit(f"no saved fold models for {name} seed {seed} in {folder}: run bench_honest.py first")
    run = json.loads((folder / "run.json").read_text())
    cfg = TrainConfig(**run["config"])
    models = []
    for k in range(cfg.folds):
        stats = FeatureStats.from_dict(json.loads((folder / f"fold{k}.json").read_text())["global"])
        models.append(types.SimpleNamespace(model=keras.saving.load_model(folder / f"fold{k}.keras", compile=False),
                                            global_stats=stats))
    return cfg, types.SimpleNamespace(models=models, temperatures=run["temperatures"])


def rescore(name, seed):
    """Score a recorded run's sessions again from its saved fold models (no training): its test
    actors' and its validation actors'."""
    from training.dataset import discover
    from training.evaluate import actor_folds

    cfg, cv = saved_run(name, seed)
    actors = discover(DATA).actors
    folds = actor_folds(actors, cfg.folds)
    val = validation_actors(actors, folds, cfg)
    long = {"kinds": LONG_SESSIONS, "minutes": LONG_MINUTES}
    return (score_sessions(cv, cfg, folds, seed) + score_sessions(cv, cfg, folds, seed, **long),
            score_sessions(cv, cfg, folds, seed, actors_of=val)
            + score_sessions(cv, cfg, folds, seed, actors_of=val, **long))


def validation_actors(actors, folds, cfg):
    """``k -> the validation actors of fold k`` as training picked them (training.evaluate)."""
    from training.evaluate import pick_validation

    def of(k):
        rest = [a for a in actors if a not in folds[k]]
        return pick_validation(rest, min(cfg.val_actors, len(rest) - 1))

    return of


def _commit():
    from bench.record import commit

    return commit()


# -- tables ----------------------------------------------------------------------------------


def _mean(vals):
    vals = [v for v in vals if v is not None and not np.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _pm(per_seed, pct=True):
    v = np.asarray(per_seed, float)
    if not len(v):
        return "—"
    scale = 100 if pct else 1
    fmt = (lambda x: f"{x * scale:.1f}") if pct else (lambda x: f"{x:.2f}")
    return f"{fmt(v.mean())}{'%' if pct else ''}" + (f" ± {fmt(v.std(ddof=1))}" if len(v) > 1 else " (1 seed)")


def session_figures(rec, setting, *, mix=None, which="sessions"):
    """Mean clip accuracy of the balanced and of the skewed sessions, and their share distances,
    under ``mix`` = ``(key, gate, rate)`` (default: the app's, :func:`app_mix`)."""
    ss = rec[which]
    mix = mix or app_mix()
    pick = (lambda x: _under(x["grid"], mix)) if "grid" in ss[0][setting] else (lambda x: x)
    bal = [pick(s[setting]) for s in ss if s["kind"] == "balanced"]
    long = [pick(s[setting]) for s in ss if s["kind"] == "balanced long"]
    skew = [pick(s[setting]) for s in ss if s["skewed"]]
    return {"balanced": _mean([x["clip_accuracy"] for x in bal]), "skewed": _mean([x["clip_accuracy"] for x in skew]),
            "long": _mean([x["clip_accuracy"] for x in long]),
            "tv_balanced": _mean([x["tv_soft"] for x in bal]), "tv_skewed": _mean([x["tv_soft"] for x in skew]),
            "tv_long": _mean([x["tv_soft"] for x in long]),
            # every balanced session, short and long: what the mix is chosen by
            "tv_all_balanced": _mean([x["tv_soft"] for x in bal + long]),
            "tv_skewed_hard": _mean([x["tv_hard"] for x in skew]),
            "confident_wrong": _mean([x.get("confident_wrong", float("nan")) for x in bal + long + skew])}


def _under(grid, mix):
    """A session's scores under ``mix`` = ``(key, gate, rate)``: its own mix of strength ``key``
    where its evidence (ser_engine.labelling.mix_evidence) reaches ``gate`` and ``rate`` per
    second of speech, else the training data's, as the labelling core decides (sessions recorded
    before the evidence: always their own; before the speech seconds: no rate)."""
    from ser_engine.labelling import mix_passes

    key, gate, rate = mix
    if key == "off":
        return grid["off"]
    evidence, seconds = grid[key].get("evidence"), grid[key].get("speech_seconds")
    if evidence is None:
        return grid[key]
    if seconds is None:  # recorded before the speech seconds: the rate cannot be judged
        seconds, rate = 1.0, -np.inf
    used = mix_passes(evidence, seconds, min_evidence=gate, min_rate=rate)
    return grid[key] if used else grid["off"]


def app_mix():
    """The app's default mix as ``(key, gate, rate)`` (SegmentConfig's strength and evidence gates)."""
    from ser_engine.segments import SegmentConfig

    config = SegmentConfig()
    if config.mix == "training":
        return ("off", -np.inf, -np.inf)
    return (mix_key(config.mix_strength), config.min_mix_evidence, config.min_mix_evidence_rate)


def chosen_mix(recs):
    """The ``(key, gate, rate)`` of :data:`MIX_GRID` x :data:`EVIDENCE_GRID` x :data:`RATE_GRID`
    the validation actors' sessions choose: the smallest mean of the balanced and the skewed sessions' share distances,
    averaged over the runs ``recs`` (app default settings). None when no run has validation
    sessions."""
    recs = [r for r in recs if r.get("validation_sessions")]
    if not recs:
        return None

    def loss(mix):
        fig = [session_figures(r, "default", mix=mix, which="validation_sessions") for r in recs]
        return float(np.mean([(f["tv_all_balanced"] + f["tv_skewed"]) / 2 for f in fig]))

    return min(((mix_key(m), g, q) for m in MIX_GRID for g in EVIDENCE_GRID for q in RATE_GRID), key=loss)


def _three(figs, keys, pct=True):
    """``a / b / c``: each of ``keys`` over the runs' figures (mean ± std; "—" where none were scored)."""
    return " / ".join(_pm([f[k] for f in figs if not np.isnan(f[k])], pct) for k in keys)


def _mix_name(mix):
    key, gate, rate = mix
    if key == "off":
        return "training data's (off)"
    return (f"own, training's worth {key} s" + ("" if gate == -np.inf else f", evidence ≥ {gate:g}")
            + ("" if rate == -np.inf else f" and ≥ {rate:g} per second"))


def mix_table(runs):
    """Every mix strength (always used), then the chosen strength under every evidence gate, on the
    validation actors' sessions (what chooses) and the test actors' (what is reported), app
    default settings, for the runs scored under the grid."""
    head = ["| Candidate | Mix | Seeds | Validation: balanced / long balanced / skewed clips | Validation: share "
            "distance balanced / long / skewed | Test: balanced / long balanced / skewed clips | Test: share distance "
            "balanced / long / skewed (hard labels) | Test: clips wrong, not marked uncertain |",
            "|---|---|---|---|---|---|---|---|"]
    rows = []
    for n in [n for n, _, _ in CANDIDATES]:
        recs = [r for (name, _), r in sorted(runs.items()) if name == n and r.get("validation_sessions")]
        if not recs:
            continue
        chosen, app = chosen_mix(recs), app_mix()
        gated = "evidence" in recs[0]["sessions"][0]["default"]["grid"][chosen[0]]
        mixes = [(mix_key(m), -np.inf, -np.inf) for m in MIX_GRID]
        if gated and chosen[0] != "off":
            mixes += [(chosen[0], g, chosen[2]) for g in EVIDENCE_GRID if g != -np.inf]
            mixes += [(chosen[0], chosen[1], q) for q in RATE_GRID if q not in (-np.inf, chosen[2])]
        for mix in mixes:
            v = [session_figures(r, "default", mix=mix, which="validation_sessions") for r in recs]
            t = [session_figures(r, "default", mix=mix) for r in recs]
            marks = [w for w, on in (("chosen", mix == chosen), ("app", mix == app)) if on]
            rows.append(f"| `{n}` | {_mix_name(mix)}{' (' + ', '.join(marks) + ')' if marks else ''} | {len(recs)} | "
                        f"{_three(v, ('balanced', 'long', 'skewed'))} | "
                        f"{_three(v, ('tv_balanced', 'tv_long', 'tv_skewed'), False)} | "
                        f"{_three(t, ('balanced', 'long', 'skewed'))} | "
                        f"{_three(t, ('tv_balanced', 'tv_long', 'tv_skewed'), False)} "
                        f"({_pm([x['tv_skewed_hard'] for x in t], False)}) | "
                        f"{_pm([x['confident_wrong'] for x in t])} |")
    return "\n".join(head + rows) if rows else ""


def tables(runs):
    from training.scoring import CONDITIONS

    names = [n for n, _, _ in CANDIDATES if any(k[0] == n for k in runs)]
    conds = ["global", *CONDITIONS, "snr30:global", "snr30:all", "channel-room:global", "channel-room:all"]
    short = {"global": "none (global)", "all": "all clips", "low_arousal": "low arousal",
             "high_arousal": "high arousal",
             "single_emotion": "one emotion", "random_20": "random 20%", "enrolment": "enrolment",
             "snr30:global": "room 30 dB, none", "snr30:all": "room 30 dB, all clips",
             "channel-room:global": "rooms, none", "channel-room:all": "rooms, all clips"}
    head = ["| Candidate | Seeds | Validation | " + " | ".join(short[c] for c in conds) + " |",
            "|---|---|---|" + "---|" * len(conds)]
    rows = []
    for n in names:
        recs = [r for (name, _), r in sorted(runs.items()) if name == n]
        cells = [_pm([np.mean(r["conditions"][c]) for r in recs if c in r["conditions"]]) for c in conds]
        validation = _pm([np.mean(r["validation"]) for r in recs])
        rows.append(f"| `{n}`: {CANDIDATE_BY_NAME[n][0]} | {len(recs)} | {validation} | "
                    + " | ".join(cells) + " |")
    shead = ["| Candidate | Setting | Balanced sessions | Skewed sessions | Skewed − global | "
             "Share distance, balanced | "
             "Share distance, skewed (answer / hard labels) |", "|---|---|---|---|---|---|---|"]
    srows = []
    for n in names:
        recs = [r for (name, _), r in sorted(runs.items()) if name == n and "sessions" in r]
        for setting in ("default", "global"):
            f = [session_figures(r, setting) for r in recs]
            g = [session_figures(r, "global") for r in recs]
            gap = [a["skewed"] - b["skewed"] for a, b in zip(f, g, strict=True)]
            srows.append(f"| `{n}` | {'app default' if setting == 'default' else 'global statistics'} | "
                         f"{_pm([x['balanced'] for x in f])} | {_pm([x['skewed'] for x in f])} | "
                         f"{'—' if setting == 'global' else _pm(gap)} | {_pm([x['tv_balanced'] for x in f], False)} | "
                         f"{_pm([x['tv_skewed'] for x in f], False)} / "
                         f"{_pm([x['tv_skewed_hard'] for x in f], False)} |")
    return "\n".join(head + rows), "\n".join(shead + srows)


def room_rule(dval, droom):
    """The room rule (written before any run was scored in rooms): a lever is also adopted when
    its validation accuracy in rooms rises by :data:`ADOPT_MARGIN` or more on every shared seed
    and its clean validation does not fall on average over them."""
    return bool(droom) and min(droom) >= ADOPT_MARGIN and float(np.mean(dval)) >= 0.0


def verdicts(runs):
    """Each lever against its reference on the seeds both have run: the differences in validation
    (what decides), in the rooms' validation, alone and with all clips, and whether a rule adopts it."""
    head = ["| Lever | Against | Seeds | Δ validation | Δ validation in rooms | Δ none (global) | Δ all clips | "
            "Adopted |", "|---|---|---|---|---|---|---|---|"]
    rows = []
    for lever, ref in PAIRS:
        seeds = sorted({s for n, s in runs if n == lever} & {s for n, s in runs if n == ref})
        if not seeds:
            continue
        a, b = [runs[(lever, s)] for s in seeds], [runs[(ref, s)] for s in seeds]
        dval = [np.mean(x["validation"]) - np.mean(y["validation"]) for x, y in zip(a, b, strict=True)]
        dglob, dall = ([np.mean(x["conditions"][c]) - np.mean(y["conditions"][c]) for x, y in zip(a, b, strict=True)]
                       for c in ("global", "all"))
        # judged in rooms only when every shared seed of both was scored there
        roomed = all("validation_channels" in r for r in a + b)
        droom = [np.mean(x["validation_channels"]["room"]) - np.mean(y["validation_channels"]["room"])
                 for x, y in zip(a, b, strict=True)] if roomed else []
        adopted = ("yes" if min(dval) >= ADOPT_MARGIN else "yes (room rule)" if room_rule(dval, droom) else "no")
        rows.append(f"| `{lever}` | `{ref}` | {', '.join(map(str, seeds))} | {_signed(dval)} | "
                    f"{_signed(droom) if droom else '—'} | {_signed(dglob)} | {_signed(dall)} | {adopted} |")
    return "\n".join(head + rows)


def _signed(per_seed):
    v = np.asarray(per_seed, float) * 100
    return f"{v.mean():+.1f}" + (f" ± {v.std(ddof=1):.1f}" if len(v) > 1 else "") + " points"


def _mix_paragraph(runs):
    table = mix_table(runs)
    if not table:
        return []
    return ["**A session's own mix of emotions.** A model's calibrated probabilities carry the mix of its training "
            "data (RAVDESS: every emotion alike, neutral half as common), so their mean pulls a lopsided session "
            "towards even shares. The labelling core estimates a recording's own mix from its speech by "
            "expectation-maximisation (Saerens, Latinne & Decaestecker 2002; `ser_engine.labelling.recording_mix`) "
            "when it holds 30 s of speech or more, the training data's mix counting for a number of seconds of "
            "speech beside it, and moves every element's probabilities there (segments and answer alike). Each "
            "session is labelled under every strength; the strength is chosen on the **validation** actors' "
            "sessions (inside the training folds; the smallest mean of the balanced and skewed share distances), "
            "and the test actors' figures are reported.", "", table, ""]


def write_tables(runs):
    conditions, sessions = tables(runs)
    body = "\n".join([
        "5-fold cross-validation by actor on actors 01–20 (mean ± std over seeds of the 5-fold mean), every "
        "figure computed by the app's labelling core. Test actors scored with speaker baselines from: nothing "
        "(global statistics), all their clips (balanced), only their low- or high-arousal clips, each single "
        "emotion's clips (mean over the eight), a random fifth, a neutral/calm enrolment of one statement (not "
        "scored); and in a room (white noise 30 dB below the speech, never trained on). Validation: the "
        "validation actors inside the training folds (mean of global, all, low and high arousal), the figure a "
        "recipe is chosen by.", "", conditions, "",
        "Rooms: each clip in a room drawn for it (`training.rooms.TRAINING_ROOMS`: pink or brown noise 20/10/5 dB "
        "below the speech, or reverberation with RT60 0.3/0.8 s), never trained on unless the recipe has room "
        "copies (then only other actors' copies). Their columns average the seeds that were scored there "
        "(`both_distill`: seeds 0 and 1, run again with the rooms and equal to their first runs in every other "
        "figure); a candidate none of whose runs was scored there has \"—\".", "",
        f"Each lever against the recipe it changes, seed by seed (same folds, same seeds): it is adopted when "
        f"validation rises by {ADOPT_MARGIN:.1%} or more on every seed both have run, or under the **room rule**: "
        f"its validation in rooms rises by {ADOPT_MARGIN:.1%} or more on every such seed and its clean validation "
        "does not fall on average (written before any run was scored in rooms; issue 23: clinics are rooms).", "",
        verdicts(runs), "",
        "Sessions built from each fold's test actors (bench/sessions.py: trimmed clips with 1–4 s pauses; balanced: "
        "all 60 clips; skewed: only neutral/calm/sad, only angry/fearful/surprised, only sad), labelled by that "
        "fold's model through `analyse_recording`: with the app's default settings (a recording with 30 s of "
        "speech or more is its own baseline) and with global statistics. Clip accuracy: the label covering most of "
        "a clip is its emotion. Share distance: total variation distance between the recording's answer (each "
        "emotion's share of the speech time) and the true shares; after the slash, the shares of the segments' "
        "hard labels. Runs scored under the mix grid (below) give the app's mix strength in both settings; the "
        "others were scored before a session got its own mix (the training data's).", "",
        sessions, "", *_mix_paragraph(runs), "Each run's commit: " + "; ".join(
            f"`{n}` seed {s} {r.get('commit', '?')}"
            + (f" (sessions scored again at {r['sessions_commit']})" if r.get("sessions_commit") else "")
            for (n, s), r in sorted(runs.items())) + "."])
    write_section("bench_honest", "Speaker baselines and front ends under the honest protocol", body,
                  "bench/bench_honest.py")
    return body


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", nargs="+", default=[n for n, _, _ in CANDIDATES], choices=list(CANDIDATE_BY_NAME))
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--threads", type=int)
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--rescore", action="store_true",
                   help="score the recorded runs' sessions again from their saved fold models (no training)")
    args = p.parse_args(argv)
    runs = load_runs(RESULTS)
    if args.rescore:
        for (n, s), rec in sorted(runs.items()):
            if n in args.candidates and s in args.seeds and (MODELS / f"{n}-{s}").is_dir():
                rec["sessions"], rec["validation_sessions"] = rescore(n, s)
                rec["sessions_commit"] = _commit()
                save_run(rec, RESULTS)
                print(f"{n} seed {s}: sessions scored again", flush=True)
        runs = load_runs(RESULTS)
    elif not args.table_only:
        todo = [(n, s) for s in args.seeds for n in args.candidates if args.fresh or (n, s) not in runs]
        threads = args.threads or max(1, (os.cpu_count() or 2) // args.jobs)
        print(f"{len(todo)} runs, {args.jobs} at a time, {threads} thread(s) each", flush=True)
        with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"),
                                                    initializer=_init_worker, initargs=(threads,)) as pool:
            futures = {pool.submit(run_one, n, s, args.data): (n, s) for n, s in todo}
            for fut in concurrent.futures.as_completed(futures):
                try:
                    rec = fut.result()
                except Exception as exc:  # one failed run must not lose the others' results
                    n, s = futures[fut]
                    print(f"{n} seed {s}: FAILED ({type(exc).__name__}: {exc})", flush=True)
                    continue
                save_run(rec, RESULTS)
                print(f"{rec['lever']} seed {rec['seed']}: {rec['minutes']:.1f} min; "
                      + ", ".join(f"{c} {np.mean(v):.3f}" for c, v in rec["conditions"].items()), flush=True)
                write_tables(load_runs(RESULTS))
    print(write_tables(load_runs(RESULTS)))


if __name__ == "__main__":
    main()
