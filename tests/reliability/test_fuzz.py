"""Property-based tests: the loader and the feature functions on random bytes and random arrays
raise nothing but the project's own errors (``SerError``), and what they return is well formed.

The number of examples is modest so the suite stays fast; ``FUZZ_EXAMPLES`` lists them, and
bench/bench_reliability.py reports how many were run.
"""

import io
import warnings

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ser_engine.audio import load_audio
from ser_engine.errors import AudioLoadError, SerError, SignalError
from ser_engine.features import (MAX_AMPLITUDE, FeatureConfig, compute_features, filter_banks, frame_energy,
                                 pitch_track, power_spectrum)
from ser_engine.inference import WindowConfig
from ser_engine.labelling import Labeller, plan_windows, window_inputs
from ser_engine.normalise import FeatureStats
from ser_engine.segments import SegmentConfig, regions_of

#: examples per property (hypothesis' default is 100)
FUZZ_EXAMPLES = {"bytes": 150, "mutated": 150, "signal": 120, "features": 120, "mask": 80}
CONFIG = FeatureConfig()
_WINDOW = WindowConfig()
BANKS = None  # filled once: librosa's banks are what the Predictor passes in from filters.npz
EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".WAV", "")


def _banks():
    global BANKS
    if BANKS is None:
        BANKS = filter_banks(config=CONFIG)
    return BANKS


def _fuzz(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def _seed_files():
    """Small valid files of several formats: mutating them reaches deeper into the parsers
    than random bytes, which libsndfile mostly refuses at the first byte."""
    y = 0.3 * np.sin(np.arange(1600) / 5.0)
    out = []
    for fmt, subtype in (("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_16"), ("AIFF", "PCM_24"),
                         ("OGG", "VORBIS"), ("WAV", "PCM_U8")):
        buf = io.BytesIO()
        sf.write(buf, np.stack([y, -y], axis=1), 8000, format=fmt, subtype=subtype)
        out.append(buf.getvalue())
    return out


SEEDS = _seed_files()


def _load_checked(path):
    try:
        y = load_audio(path)
    except AudioLoadError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message and "Traceback" not in message
        return None
    assert y.dtype == np.float32 and y.ndim == 1 and len(y) > 0
    assert np.isfinite(y).all()
    return y


@_fuzz(FUZZ_EXAMPLES["bytes"])
@given(data=st.binary(max_size=4096), ext=st.sampled_from(EXTENSIONS))
def test_load_audio_on_random_bytes(tmp_path_factory, data, ext):
    path = tmp_path_factory.mktemp("fuzz") / f"random{ext}"
    path.write_bytes(data)
    _load_checked(path)


@_fuzz(FUZZ_EXAMPLES["mutated"])
@given(seed=st.sampled_from(range(len(SEEDS))),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=12),
       cut=st.one_of(st.none(), st.integers(0, 10_000)),
       ext=st.sampled_from(EXTENSIONS))
def test_load_audio_on_damaged_real_files(tmp_path_factory, seed, edits, cut, ext):
    data = bytearray(SEEDS[seed])
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[:cut % (len(data) + 1)]
    path = tmp_path_factory.mktemp("fuzz") / f"damaged{ext}"
    path.write_bytes(bytes(data))
    _load_checked(path)


_special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 1e-30, 1e5, MAX_AMPLITUDE * 10, 3.4e38])


@st.composite
def signals(draw, max_len=4000):
    """Random mono arrays: empty to a quarter second, quiet to absurd, sometimes with
    non-finite or huge samples planted in them."""
    n = draw(st.integers(0, max_len))
    scale = draw(st.sampled_from([0.0, 1e-6, 0.01, 1.0, 100.0]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    y = (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)
    for pos, value in draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), _special), max_size=3)):
        if n:
            y[pos] = value
    return y


@_fuzz(FUZZ_EXAMPLES["signal"])
@given(y=signals())
def test_feature_functions_on_random_signals(y):
    finite_and_sane = bool(np.isfinite(y).all()) and (len(y) == 0 or np.abs(y).max() <= MAX_AMPLITUDE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow or 0/0 inside would show here
        try:
            X = compute_features(y, config=CONFIG, banks=_banks(), block_frames=7)
        except SignalError as exc:
            assert not finite_and_sane, f"a usable signal was refused: {exc}"
            return
    assert finite_and_sane, "a non-finite or absurd signal was accepted"
    assert X.shape == (1 + len(y) // CONFIG.hop_length, CONFIG.n_features) and X.dtype == np.float32
    assert np.isfinite(X).all()


@_fuzz(FUZZ_EXAMPLES["signal"] // 2)
@given(y=signals(max_len=2000), start=st.integers(0, 30), span=st.integers(0, 30))
def test_frame_level_helpers_on_random_signals(y, start, span):
    y = np.nan_to_num(y, nan=0.0, posinf=1.0, neginf=-1.0).clip(-1, 1)
    S = power_spectrum(y, config=CONFIG, start_frame=start, stop_frame=start + span)
    voicing, f0 = pitch_track(y, config=CONFIG, start_frame=start, stop_frame=start + span)
    expected = max(0, min(start + span, 1 + len(y) // CONFIG.hop_length) - start)
    assert len(S) == len(voicing) == len(f0) == expected
    assert np.isfinite(S).all() and ((voicing >= 0) & (voicing <= 1)).all() and np.isfinite(f0).all()


@st.composite
def feature_matrices(draw):
    n = draw(st.integers(0, 700))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    X = (np.random.default_rng(seed).standard_normal((n, CONFIG.n_features)) * draw(
        st.sampled_from([0.0, 1.0, 50.0, 1e6]))).astype(np.float32)
    for (i, j), value in draw(st.lists(st.tuples(st.tuples(st.integers(0, max(n - 1, 0)),
                                                           st.integers(0, CONFIG.n_features - 1)), _special),
                                       max_size=6)):
        if n:
            X[i, j] = value
    return X


@_fuzz(FUZZ_EXAMPLES["features"])
@given(X=feature_matrices(), data=st.data())
def test_the_labelling_core_on_random_features_and_speech(X, data):
    """Any frames and any speech mask: regions, windows and an answer that is a distribution."""
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(X), max_size=len(X))), bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Inf - Inf in planted values is expected
        energy = frame_energy(X, config=CONFIG)
        assert energy.shape == (len(X),)
        regions = regions_of(mask, feature_config=CONFIG, config=SegmentConfig())
        assert all(0 <= lo < hi <= len(X) for lo, hi in regions)
        plan = plan_windows(regions, len(X), length=_WINDOW.length, hop=_WINDOW.hop)
        stats = FeatureStats(mean=np.zeros(CONFIG.n_features, np.float32), std=np.ones(CONFIG.n_features, np.float32))
        x = window_inputs([X[lo:hi] for lo, hi in regions], regions, stats, plan, np.arange(plan.n_windows),
                          _WINDOW.length)
        assert x.shape == (plan.n_windows, _WINDOW.length, CONFIG.n_features)
        lab = Labeller(plan, labels=[str(k) for k in range(8)], temperature=1.0, uncertain_below=0.5, rate=100.0,
                       duration=len(X) / 100.0, smooth=3)
        lab.add(np.log(np.full((plan.n_windows, 8), 1 / 8)))
        answer = lab.answer()
        assert (answer.label == "no speech") == (not regions)
        if regions:
            assert np.isclose(sum(answer.probabilities.values()), 1.0)


@_fuzz(FUZZ_EXAMPLES["mask"])
@given(shape=st.tuples(st.integers(0, 50), st.integers(0, 200)))
def test_features_of_the_wrong_shape_are_refused_with_a_signal_error(shape):
    X = np.zeros(shape, np.float32)
    if shape[1] == CONFIG.n_features:
        assert frame_energy(X, config=CONFIG).shape == (shape[0],)
    else:
        with pytest.raises(SignalError, match="do not fit"):
            frame_energy(X, config=CONFIG)


def test_multichannel_and_non_numeric_arrays_are_refused():
    for bad in (np.zeros((100, 2), np.float32), np.array(["a", "b"]), [[1.0], [2.0, 3.0]]):
        with pytest.raises(SerError):
            compute_features(bad, config=CONFIG, banks=_banks())

