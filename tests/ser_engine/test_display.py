"""What the window draws: spectrogram columns are the features' own frames, in dBFS."""

import numpy as np
import pytest
import soundfile as sf

from ser_engine.display import (
    FULL_SCALE_DB,
    MAX_SPECTROGRAM_COLUMNS,
    OVERVIEW_FRAME_SECONDS,
    clip_view,
    overview_view,
    slice_view,
)
from ser_engine.features import FeatureConfig, power_spectrum

SR = 16000


def sine(seconds, hz=1000.0, amplitude=1.0):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_full_scale_sine_peaks_near_0_dbfs_at_its_frequency():
    view = clip_view(sine(2.0, 1000.0))
    assert view.db.shape[0] == 257 and view.db.dtype == np.float32
    column = view.db[:, view.db.shape[1] // 2]
    assert np.argmax(column) == pytest.approx(1000 / (SR / 2) * 256, abs=1)
    assert column.max() == pytest.approx(0.0, abs=1.5)
    assert view.duration == pytest.approx(2.0) and len(view.y) == 2 * SR and view.peak == pytest.approx(1.0, abs=1e-3)


def test_a_clip_view_is_the_features_power_spectrum(rng):
    y = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    view = clip_view(y)
    expected = 10 * np.log10(power_spectrum(y, config=FeatureConfig()) + 1e-12) - FULL_SCALE_DB
    np.testing.assert_allclose(view.db, expected.T, atol=1e-3)
    assert view.column_seconds == pytest.approx(0.01)


def test_an_overview_column_is_the_feature_frame_at_that_instant(tmp_path, rng):
    y = (0.05 * rng.standard_normal(130 * SR)).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    view = overview_view(path)
    assert view.overview and view.duration == pytest.approx(130.0)
    per_column = int(round(OVERVIEW_FRAME_SECONDS * 100))  # feature frames per overview column
    assert view.db.shape[1] <= MAX_SPECTROGRAM_COLUMNS and view.column_seconds == pytest.approx(0.1)
    frames = power_spectrum(y, config=FeatureConfig(), start_frame=0, stop_frame=per_column * 50 + 1)
    for k in (0, 7, 50):  # the first frame is zero-padded before the start, as the features'
        np.testing.assert_allclose(view.db[:, k], 10 * np.log10(frames[k * per_column] + 1e-12) - FULL_SCALE_DB,
                                   atol=1e-3)
    assert len(view.y) < 130 * SR / 50  # an envelope, not the samples


def test_an_overview_stops_when_no_longer_wanted(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, sine(125.0, amplitude=0.1), SR)
    assert overview_view(path, still_wanted=lambda: False) is None


def test_a_slice_is_placed_at_its_time():
    view = slice_view(sine(1.0), 90.0)
    assert view.t[0] == pytest.approx(90.0) and view.t0 == 90.0 and view.t1 == pytest.approx(91.0)
