import numpy as np

from ser_engine.normalise import compute_stats
from tests.conftest import ravdess_files, requires_data
from training.cache import extract_training_features, noise_key, pitch_key
from training.config import TrainConfig
from training.dataset import parse_name
from training.train import WindowSampler, augmented_keys, perturbed_speaker_stats


def test_every_kind_of_copy_is_an_augmented_version():
    cfg = TrainConfig(speeds=(0.9, 1.1), noise_snrs=(20,), pitch_steps=(-2, 2))
    assert augmented_keys(cfg) == [0.9, 1.1, noise_key(20), pitch_key(-2), pitch_key(2)]
    assert augmented_keys(TrainConfig(speeds=(), noise_snrs=())) == []


@requires_data
def test_the_sampler_draws_windows_from_the_pitch_shifted_copies():
    paths = ravdess_files([1], emotions=[5], per_emotion=2)
    items = [parse_name(p)[0] for p in paths]
    cfg = TrainConfig(speeds=(), noise_snrs=(), pitch_steps=(-2, 2), time_masks=0, freq_masks=0, speaker_mix=1.0)
    feats, failures, _ = extract_training_features(paths, config=cfg.feature, pitch_steps=cfg.pitch_steps, workers=1)
    assert failures == {}
    spk = {1: compute_stats([feats[p] for p in paths], config=cfg.feature),
           **perturbed_speaker_stats(items, feats, augmented_keys(cfg), config=cfg.feature)}
    assert {(1, pitch_key(-2)), (1, pitch_key(2))} <= set(spk)  # each copy has its own speaker baseline
    sampler = WindowSampler(items, feats, spk[1], spk, cfg, np.random.default_rng(0))
    assert [len(versions) for versions in sampler.seqs] == [3, 3]  # the recording and its two shifts
    x, y = sampler.epoch()
    assert x.shape == (2, cfg.window.length, cfg.feature.n_features) and np.isfinite(x).all()
