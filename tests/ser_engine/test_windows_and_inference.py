import numpy as np
import pytest

from ser_engine.features import FeatureConfig
from ser_engine.inference import WindowConfig, aggregate, prepare_windows, softmax
from ser_engine.normalise import FeatureStats, apply_stats, compute_stats
from ser_engine.windows import make_windows, window_starts


@pytest.mark.parametrize("n, expected", [(50, [0]), (300, [0]), (301, [0, 1]), (550, [0, 100, 200, 250])])
def test_window_starts_cover_the_tail(n, expected):
    assert window_starts(n, length=300, hop=100).tolist() == expected


def test_short_sequence_is_centred_and_zero_padded(rng):
    Z = rng.standard_normal((100, 5)).astype(np.float32)
    w, starts = make_windows(Z, length=300, hop=100)
    assert w.shape == (1, 300, 5) and starts.tolist() == [-100]
    np.testing.assert_array_equal(w[0, 100:200], Z)
    assert not w[0, :100].any() and not w[0, 200:].any()


def test_windows_are_slices(rng):
    Z = rng.standard_normal((550, 3)).astype(np.float32)
    w, starts = make_windows(Z, length=300, hop=100)
    for k, s in enumerate(starts):
        np.testing.assert_array_equal(w[k], Z[s:s + 300])


def test_stats_use_speech_frames_only(rng):
    cfg = FeatureConfig()
    X = rng.normal(3.0, 2.0, (1000, cfg.n_features)).astype(np.float32)
    e = cfg.feature_names().index("log_energy")
    other = np.arange(cfg.n_features) != e
    X[:, e] = -20.0           # loud frames ...
    X[:500, e] = -95.0        # ... and silent ones
    X[:500, other] = 100.0    # which must not pull the statistics
    s = compute_stats([X], config=cfg)
    assert s.n_frames == 500
    assert np.allclose(s.mean[other], 3.0, atol=0.3) and np.allclose(s.std[other], 2.0, atol=0.3)
    Z = apply_stats(X[500:], s)
    assert abs(Z[:, other].mean()) < 0.05
    assert FeatureStats.from_dict(s.to_dict()).mean.tolist() == s.mean.tolist()


def test_aggregate_weights_windows():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert aggregate(p, np.array([1.0, 0.0])).argmax() == 0
    assert aggregate(p, np.array([0.0, 1.0])).argmax() == 1
    assert aggregate(p, np.array([1.0, 1.0])).argmax() == 0  # geometric mean: 0.42 vs 0.28


def test_temperature_flattens():
    logits = np.array([2.0, 0.0, -1.0])
    assert softmax(logits).sum() == pytest.approx(1)
    assert softmax(logits, 2.0).max() < softmax(logits).max()


def test_prepare_windows_trims_silence(rng):
    cfg = FeatureConfig()
    X = rng.standard_normal((800, cfg.n_features)).astype(np.float32)
    e = cfg.feature_names().index("log_energy")
    X[:, e] = -95.0
    X[200:450, e] = -20.0
    stats = FeatureStats(np.zeros(cfg.n_features, np.float32), np.ones(cfg.n_features, np.float32))
    prep = prepare_windows(X, stats, config=cfg, window=WindowConfig())
    assert prep.span == (190, 460)
    assert len(prep.windows) == 1 and prep.weights[0] == pytest.approx(250 / 270)


def test_run_model_pads_batches_and_matches_a_direct_call(tiny_bundle, rng):
    from ser_engine.bundle import load_bundle
    from ser_engine.inference import run_model

    model = load_bundle(tiny_bundle).load_keras_model()
    x = rng.standard_normal((5,) + tuple(model.input_shape[1:])).astype(np.float32)
    direct = np.asarray(model(x, training=False))
    for batch_size in (2, 5, 8):
        np.testing.assert_allclose(run_model(model, x, batch_size=batch_size), direct, atol=1e-5)
    assert run_model(model, x[:0], batch_size=4).shape == (0, 8)
