import subprocess
import sys

import numpy as np
import pytest

from ser_engine.features import (
    FeatureConfig,
    compute_features,
    frame_energy,
    n_frames,
    pitch_track,
)
from tests.conftest import REPO

CFG = FeatureConfig()


@pytest.fixture
def speechlike(rng):
    # 1 s of a quiet room, 2 s of a harmonic tone, 1 s of the room (white noise throughout)
    sr = 16000
    t = np.arange(2 * sr) / sr
    tone = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 6)) * 0.2
    y = np.concatenate([np.zeros(sr), tone, np.zeros(sr)])
    return (y + 0.001 * rng.standard_normal(len(y))).astype(np.float32)


def test_shapes_and_names(speechlike):
    X = compute_features(speechlike, config=CFG)
    assert X.shape == (n_frames(len(speechlike), config=CFG), CFG.n_features)
    assert X.shape == (401, 119)
    assert len(CFG.feature_names()) == CFG.n_features
    assert X.dtype == np.float32 and np.isfinite(X).all()


def test_deterministic_and_block_independent(speechlike):
    a = compute_features(speechlike, config=CFG)
    b = compute_features(speechlike, config=CFG)
    c = compute_features(speechlike, config=CFG, block_frames=37)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c, atol=1e-3)


def test_matches_librosa(speechlike):
    import librosa

    X = compute_features(speechlike, config=CFG)
    S = np.abs(librosa.stft(speechlike, n_fft=512, hop_length=160, win_length=400, pad_mode="constant")) ** 2
    mel = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=16000, n_mels=64, fmin=50, fmax=8000),
                              amin=1e-10, top_db=None)
    np.testing.assert_allclose(X[:, :64], mel.T, atol=1e-3)
    mfcc = librosa.feature.mfcc(S=mel, n_mfcc=20)
    np.testing.assert_allclose(X[:, 64:84], mfcc.T, atol=5e-3)
    chroma = librosa.feature.chroma_stft(S=S, sr=16000, tuning=0.0)
    voiced = X[:, 116] > -60  # librosa leaves all-zero frames unnormalised; we set them to 0
    np.testing.assert_allclose(X[voiced, 104:116], chroma.T[voiced], atol=1e-4)


@pytest.mark.parametrize("f0", [85.0, 120.0, 220.0, 410.0])
def test_pitch_of_a_harmonic_tone(f0, rng):
    t = np.arange(16000) / 16000
    y = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * 0.2 + 0.005 * rng.standard_normal(len(t))
    voicing, semitones = pitch_track(y.astype(np.float32), config=CFG)
    middle = slice(10, -10)
    hz = 100.0 * 2 ** (np.median(semitones[middle]) / 12)
    assert abs(hz - f0) / f0 < 0.01  # within a sixth of a semitone, no octave error
    assert np.median(voicing[middle]) > 0.9


def test_noise_is_not_voiced(rng):
    voicing, _ = pitch_track((0.1 * rng.standard_normal(16000)).astype(np.float32), config=CFG)
    assert np.median(voicing) < 0.4


def test_energy_column_is_found_by_name(speechlike):
    X = compute_features(speechlike, config=CFG)
    np.testing.assert_array_equal(frame_energy(X, config=CFG), X[:, CFG.feature_names().index("log_energy")])


def test_config_round_trip_and_digest():
    d = CFG.to_dict()
    assert FeatureConfig.from_dict(d) == CFG
    assert FeatureConfig(n_mels=40).digest() != CFG.digest()
    with pytest.raises(ValueError):
        FeatureConfig.from_dict({**d, "bogus": 1})


def test_features_beside_tensorflow_do_not_crash():
    # librosa's chroma tuning estimate segfaults next to TensorFlow (docs/NOTES.md).
    # Every librosa call we make must run in a process that has TensorFlow loaded.
    code = ("import numpy as np, tensorflow, keras\n"
            "from ser_engine.features import FeatureConfig, compute_features\n"
            "y = np.random.default_rng(0).standard_normal(32000).astype('float32') * 0.1\n"
            "print(compute_features(y, config=FeatureConfig()).shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("(201, 119)")


def test_check_signal_refuses_what_is_not_a_mono_finite_signal():
    from ser_engine.errors import SerError, SignalError
    from ser_engine.features import MAX_AMPLITUDE, check_signal

    assert check_signal(np.zeros(0)).dtype == np.float32
    assert check_signal([0.5, -0.5]).tolist() == [0.5, -0.5]
    for bad, why in ((np.zeros((10, 2)), "mono"), (np.array([0.0, np.nan]), "non-finite"),
                     (np.array([np.inf]), "non-finite"), (np.array([MAX_AMPLITUDE * 2]), "expected in"),
                     (np.array(["a"]), "not an array of numbers")):
        with pytest.raises(SignalError, match=why) as err:
            check_signal(bad)
        assert isinstance(err.value, SerError) and isinstance(err.value, ValueError)


def test_features_of_silence_and_of_an_empty_signal_are_finite():
    config = FeatureConfig()
    for y in (np.zeros(0, np.float32), np.zeros(16000, np.float32)):
        X = compute_features(y, config=config)
        assert X.shape == (1 + len(y) // config.hop_length, config.n_features) and np.isfinite(X).all()


def test_spectral_contrast_matches_librosa_and_does_not_depend_on_blocks(speechlike):
    import librosa

    from ser_engine.features import power_spectrum, spectral_contrast

    cfg = FeatureConfig(contrast_bands=5)
    assert cfg.n_features == CFG.n_features + 6 and cfg.feature_names()[-1] == "contrast_5"
    power = power_spectrum(speechlike, config=cfg)
    ours = spectral_contrast(power, config=cfg)
    theirs = librosa.feature.spectral_contrast(S=np.sqrt(power.T), sr=cfg.sample_rate, n_fft=cfg.n_fft,
                                               fmin=cfg.contrast_fmin, n_bands=cfg.contrast_bands)
    np.testing.assert_allclose(ours, theirs.T, atol=1e-3)
    X = compute_features(speechlike, config=cfg)
    np.testing.assert_allclose(X, compute_features(speechlike, config=cfg, block_frames=37), atol=1e-3)
    np.testing.assert_array_equal(X[:, :CFG.n_features], compute_features(speechlike, config=CFG))
    with pytest.raises(ValueError, match="Nyquist"):
        FeatureConfig(contrast_bands=6)
    # off, the option leaves the digest (and so every cache key) as it was before it existed
    assert CFG.digest() == "8c466adde59c4aba" and cfg.digest() != CFG.digest()
