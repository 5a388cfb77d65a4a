import numpy as np

from tests.conftest import ravdess_files, requires_data
from training.cache import channel_key, extract_training_features, noise_key, pitch_key
from training.config import TrainConfig
from training.dataset import parse_name
from training.scoring import CONDITIONS, recordings_of
from training.train import WindowSampler, augmented_keys, training_baselines


def test_every_kind_of_copy_is_an_augmented_version():
    cfg = TrainConfig(speeds=(0.9, 1.1), noise_snrs=(20,), pitch_steps=(-2, 2), channels=["telephone"])
    assert augmented_keys(cfg) == [0.9, 1.1, noise_key(20), pitch_key(-2), pitch_key(2), channel_key("telephone")]
    assert augmented_keys(TrainConfig(speeds=(), noise_snrs=())) == []


def _actor_material(cfg, emotions=range(1, 9), per_emotion=2):
    paths = ravdess_files([1], emotions=emotions, per_emotion=per_emotion)
    items = [parse_name(p)[0] for p in paths]
    feats, failures, _ = extract_training_features(paths, config=cfg.feature, speeds=cfg.speeds,
                                                   noise_snrs=cfg.noise_snrs, pitch_steps=cfg.pitch_steps, workers=1)
    assert failures == {}
    recs = recordings_of(feats, cfg)
    from ser_engine.segments import group_stats

    return items, recs, group_stats([recs[p] for p in paths])


@requires_data
def test_the_sampler_draws_windows_from_the_pitch_shifted_copies_each_with_its_own_baseline():
    cfg = TrainConfig(speeds=(), noise_snrs=(), pitch_steps=(-2, 2), time_masks=0, freq_masks=0, speaker_mix=1.0,
                      front_end={"kind": "classic"}, skewed_baselines=0.0, distill=0.0)
    items, recs, g = _actor_material(cfg, emotions=[5, 6, 7, 8], per_emotion=2)
    baselines = training_baselines(items, recs, g, cfg, np.random.default_rng(0))
    assert {(1, None), (1, pitch_key(-2)), (1, pitch_key(2))} == set(baselines)  # each copy its own speaker
    sampler = WindowSampler(items, recs, g, baselines, cfg, np.random.default_rng(0))
    assert [len(versions) for versions in sampler.seqs] == [3] * len(items)  # the recording and its two shifts
    x, y = sampler.epoch()
    assert x.shape == (len(items), cfg.window.length, cfg.n_inputs) and np.isfinite(x).all()


@requires_data
def test_skewed_baselines_are_drawn_when_asked_and_never_otherwise():
    """Training sees a window normalised by a baseline of, e.g., only the speaker's sad clips:
    what a patient's session gives the app."""
    cfg = TrainConfig(speeds=(), noise_snrs=(), speaker_mix=1.0, skewed_baselines=1.0, front_end={"kind": "classic"},
                      distill=0.0)  # targets are labels here: the teacher's own test is in test_teacher.py
    items, recs, g = _actor_material(cfg, per_emotion=8)  # all 60 clips
    base = training_baselines(items, recs, g, cfg, np.random.default_rng(0))[(1, None)]
    # a baseline the app would refuse (under 10 s of speech) is never drawn
    assert {"all", "low_arousal", "high_arousal", "random_20"} <= set(base) <= set(CONDITIONS)
    assert len(base["all"]) == 1 and len(base.get("single_emotion", [])) < 8
    sampler = WindowSampler(items, recs, g, {(1, None): base}, cfg, np.random.default_rng(0))
    drawn = {id(sampler._stats(base)) for _ in range(200)}
    assert id(base["all"][0]) not in drawn and len(drawn) > 5
    plain = TrainConfig(speeds=(), noise_snrs=(), speaker_mix=1.0, skewed_baselines=0.0, front_end={"kind": "classic"})
    only_all = training_baselines(items, recs, g, plain, np.random.default_rng(0))[(1, None)]
    assert set(only_all) == {"all"}
