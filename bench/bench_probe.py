"""The reference row: a linear probe on pooled speech-encoder states, under the same folds.

    python bench/bench_probe.py

Each recording's encoder states (Whisper tiny.en, the app's front end: its speech regions, 10 s
chunks; from the training cache) are pooled to their mean and standard deviation (768 values) and
classified by a logistic regression (scikit-learn, C = 0.01) trained on the fold's training
actors, in the 5 folds by actor of bench_honest. Two normalisations of the states before pooling:
global (the training actors' statistics) and each test actor's statistics from all their clips
(the balanced, optimistic case). Writes the section "bench_probe" of BENCHMARKS.md.
"""

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402
from training.teacher import PROBE_C, PooledProbe, joined  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ravdess-speech-16k"


def pooled_states():
    """Per recording: its encoder states (the app's regions, joined), and the dataset."""
    from ser_engine.encoder import current_spec
    from ser_engine.frontend import FrontEndConfig
    from ser_engine.segments import SegmentConfig
    from training.cache import FeatureCache, StatesCache, extract_encoder_states, extract_training_features
    from training.config import TrainConfig
    from training.dataset import discover

    cfg = TrainConfig(front_end=FrontEndConfig("encoder"))
    ds = discover(DATA)
    feats, _, _ = extract_training_features([it.path for it in ds.items], config=cfg.feature,
                                            cache=FeatureCache(cfg.feature), workers=cfg.workers)
    seg = SegmentConfig()
    states = extract_encoder_states(feats, config=cfg.feature, seg=seg, front_end=cfg.front_end,
                                    cache=StatesCache(cfg.feature, seg, current_spec()))
    return ds, [joined(states[it.path]) for it in ds.items]


def probe(ds, S, *, c=PROBE_C):
    from ser_engine import EMOTIONS
    from training.evaluate import actor_folds

    y = np.array([it.label for it in ds.items])
    actor = np.array([it.actor for it in ds.items])
    n = len(EMOTIONS)

    def accuracy(recordings, tr, te):
        fitted = PooledProbe(c).fit([recordings[i] for i in tr], y[tr])
        return float(np.mean(fitted.predict_proba([recordings[i] for i in te], n).argmax(1) == y[te]))

    # with speaker statistics: every recording normalised by all of its actor's clips first
    by_speaker = list(S)
    for a in ds.actors:
        idx = np.flatnonzero(actor == a)
        Z = np.concatenate([S[i] for i in idx])
        m, s = Z.mean(0), Z.std(0) + 1e-3
        for i in idx:
            by_speaker[i] = (S[i] - m) / s
    out = {"global": [], "speaker": []}
    for test_actors in actor_folds(ds.actors, 5):
        te = np.flatnonzero(np.isin(actor, test_actors))
        tr = np.flatnonzero(~np.isin(actor, test_actors))
        out["global"].append(accuracy(S, tr, te))
        out["speaker"].append(accuracy(by_speaker, tr, te))
    return out


def main():
    ds, S = pooled_states()
    res = probe(ds, S)
    g, s = (np.array(res[k]) for k in ("global", "speaker"))
    body = "\n".join([
        "A logistic regression (C = 0.01) on each recording's pooled encoder states (mean and standard deviation of "
        "the app's Whisper tiny.en states over its speech regions, 768 values), 5 folds by actor on actors 01–20 "
        "(the folds of bench_honest). Deterministic: no seed to vary.", "",
        "| Normalisation | Accuracy (mean ± std over folds) | Folds |", "|---|---|---|",
        f"| each file alone (global statistics) | {g.mean():.1%} ± {g.std(ddof=1):.1%} | "
        + ", ".join(f"{v:.0%}" for v in g) + " |",
        f"| with speaker statistics (all of the actor's clips) | {s.mean():.1%} ± {s.std(ddof=1):.1%} | "
        + ", ".join(f"{v:.0%}" for v in s) + " |"])
    write_section("bench_probe", "The linear probe on pooled encoder states (reference)", body, "bench/bench_probe.py")
    print(body)


if __name__ == "__main__":
    main()
