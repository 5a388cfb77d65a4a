import numpy as np

from ser_engine.features import FeatureConfig
from tests.conftest import ravdess_files, requires_data
from training.cache import FeatureCache, extract_features, file_digest

pytestmark = requires_data


def test_second_run_reads_the_cache(tmp_path):
    paths = ravdess_files([1], emotions=[1, 5], per_emotion=2)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    first, failures, cached = extract_features(paths, config=cfg, cache=cache, workers=1)
    assert failures == {} and cached == 0 and len(first) == 4
    second, failures, cached = extract_features(paths, config=cfg, cache=cache, workers=1)
    assert cached == 4
    for p in paths:
        np.testing.assert_array_equal(first[p], second[p])
        assert first[p].shape[1] == cfg.n_features


def test_encoder_states_are_the_same_numbers_computed_or_read_from_the_cache(tmp_path):
    """Before: a cold-cache run trained on the encoder's float32 states and every later run on
    their float16 copies from the cache, so the first ``ser-train`` of a folder gave other
    weights than a second one (or than a Dask run reading the cache it wrote)."""
    from ser_engine.encoder import current_spec
    from ser_engine.segments import SegmentConfig
    from training.cache import StatesCache, extract_encoder_states
    from training.config import TrainConfig

    paths = ravdess_files([1], emotions=[1, 5], per_emotion=1)
    cfg = TrainConfig(front_end={"kind": "both"})
    feats, _, _ = extract_features(paths, config=cfg.feature, workers=1)
    cache = StatesCache(cfg.feature, SegmentConfig(), current_spec(), tmp_path / "states")
    kwargs = dict(config=cfg.feature, seg=SegmentConfig(), front_end=cfg.front_end, cache=cache)
    computed = extract_encoder_states(feats, **kwargs)
    events = []
    read = extract_encoder_states(feats, progress=lambda *a: events.append(a), **kwargs)
    assert events == [(2, 2, 2)]  # all from the cache
    assert computed.keys() == read.keys() and all(len(computed[k]) == len(read[k]) > 0 for k in read)
    for k in read:
        for a, b in zip(computed[k], read[k], strict=True):
            assert a.dtype == b.dtype == np.float32 and a.shape[1] == 384
            np.testing.assert_array_equal(a, b)


def test_cache_key_is_content_and_config(tmp_path):
    src = ravdess_files([1], emotions=[1], per_emotion=1)[0]
    copy = tmp_path / "renamed.flac"
    copy.write_bytes(src.read_bytes())
    assert file_digest(copy) == file_digest(src)
    a, b = FeatureCache(FeatureConfig(), tmp_path), FeatureCache(FeatureConfig(n_mels=40), tmp_path)
    assert a.get(file_digest(src)) is None
    a.put(file_digest(src), np.ones((3, 119), np.float32))
    assert a.get(file_digest(src)).shape == (3, 119)
    assert b.get(file_digest(src)) is None  # another feature config never sees these numbers


def test_unreadable_files_are_reported_not_fatal(tmp_path):
    bad = tmp_path / "03-01-05-01-01-01-01.wav"
    bad.write_text("not audio")
    good = ravdess_files([1], emotions=[5], per_emotion=1)
    cfg = FeatureConfig()
    feats, failures, _ = extract_features([bad] + good, config=cfg, cache=FeatureCache(cfg, tmp_path / "c"), workers=1)
    assert list(feats) == good
    assert "not a readable audio file" in failures[bad]


def test_speed_perturbation_changes_tempo_and_pitch(tmp_path):
    from ser_engine.features import pitch_track
    from training.cache import speed_perturb

    sr = 16000
    t = np.arange(sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    fast = speed_perturb(y, 1.1, sr=sr)
    assert abs(len(fast) - sr / 1.1) <= 2
    cfg = FeatureConfig()
    f0 = 100 * 2 ** (np.median(pitch_track(fast, config=cfg)[1][10:-10]) / 12)
    assert abs(f0 - 220) < 2


def test_perturbed_copies_are_cached_under_their_own_key(tmp_path):
    from training.cache import extract_training_features

    paths = ravdess_files([1], emotions=[5], per_emotion=2)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    events = []
    feats, failures, cached = extract_training_features(paths, config=cfg, speeds=(0.9, 1.1), cache=cache,
                                                        workers=1, progress=lambda *a: events.append(a))
    assert failures == {} and cached == 0 and len(feats) == 6
    assert len(feats[(paths[0], 0.9)]) > len(feats[paths[0]]) > len(feats[(paths[0], 1.1)])
    assert events[-1] == (6, 6, 0)
    _, _, cached = extract_training_features(paths, config=cfg, speeds=(0.9, 1.1), cache=cache, workers=1)
    assert cached == 6


def test_noisy_copies_have_their_snr_and_are_reproducible(tmp_path):
    from training.cache import add_noise, extract_training_features, noise_key

    # A tone with silence around it: the SNR is relative to the speech, not the silence.
    sr = 16000
    t = np.arange(sr) / sr
    y = np.concatenate([np.zeros(sr), 0.3 * np.sin(2 * np.pi * 220 * t), np.zeros(sr)]).astype(np.float32)
    noisy = add_noise(y, 10.0, sr=sr, seed=1)
    noise = noisy - y
    snr = 10 * np.log10(np.mean(y[sr:2 * sr] ** 2) / np.mean(noise ** 2))
    assert abs(snr - 10.0) < 0.3
    np.testing.assert_array_equal(noisy, add_noise(y, 10.0, sr=sr, seed=1))

    paths = ravdess_files([1], emotions=[5], per_emotion=1)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    feats, _, cached = extract_training_features(paths, config=cfg, noise_snrs=(10,), cache=cache, workers=1)
    clean, dirty = feats[paths[0]], feats[(paths[0], noise_key(10))]
    assert cached == 0 and clean.shape == dirty.shape and not np.allclose(clean, dirty)
    again, _, cached = extract_training_features(paths, config=cfg, noise_snrs=(10,), cache=None, workers=1)
    np.testing.assert_array_equal(again[(paths[0], noise_key(10))], dirty)  # seeded by the file's content


def test_pitch_shift_moves_f0_and_keeps_the_tempo():
    from ser_engine.features import pitch_track
    from training.cache import pitch_shift

    sr = 16000
    t = np.arange(sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    up = pitch_shift(y, 2, sr=sr)
    assert len(up) == len(y) and up.dtype == np.float32  # same duration: the words keep their timing
    cfg = FeatureConfig()
    f0 = 100 * 2 ** (np.median(pitch_track(up, config=cfg)[1][10:-10]) / 12)
    assert abs(f0 - 200 * 2 ** (2 / 12)) < 3  # 224.5 Hz


def test_pitch_shifted_copies_are_cached_under_their_own_key(tmp_path):
    from training.cache import extract_training_features, pitch_key

    paths = ravdess_files([1], emotions=[5], per_emotion=1)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    events = []
    feats, failures, cached = extract_training_features(paths, config=cfg, pitch_steps=(-2, 2), cache=cache,
                                                        workers=1, progress=lambda *a: events.append(a))
    assert failures == {} and cached == 0 and events[-1] == (3, 3, 0)
    clean, low, high = feats[paths[0]], feats[(paths[0], pitch_key(-2))], feats[(paths[0], pitch_key(2))]
    assert clean.shape == low.shape == high.shape
    assert not np.allclose(low, high)
    _, _, cached = extract_training_features(paths, config=cfg, pitch_steps=(-2, 2), cache=cache, workers=1)
    assert cached == 3


def test_telephone_copies_lose_the_band_above_4_khz_and_are_cached_under_their_own_key(tmp_path):
    from ser_engine.audio import load_audio
    from ser_engine.features import compute_features
    from training.cache import channel_key, extract_training_features, telephone_band
    from training.speech import copy_audio, copy_digest

    paths = ravdess_files([1], emotions=[5], per_emotion=1)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    feats, failures, cached = extract_training_features(paths, config=cfg, channels=("telephone",), cache=cache,
                                                        workers=1)
    key = (paths[0], channel_key("telephone"))
    assert failures == {} and cached == 0 and set(feats) == {paths[0], key}
    # the copy the encoder is given is the one the features were computed from
    y = load_audio(paths[0])
    phone = copy_audio(key, sr=cfg.sample_rate)
    assert len(phone) == len(y) and np.array_equal(phone, telephone_band(y, sr=cfg.sample_rate))
    np.testing.assert_allclose(feats[key], compute_features(phone, config=cfg), rtol=1e-5, atol=1e-4)
    spectrum = np.abs(np.fft.rfft(phone)) ** 2
    freqs = np.fft.rfftfreq(len(phone), 1 / cfg.sample_rate)
    assert spectrum[freqs > 4200].sum() < 1e-6 * spectrum[(freqs > 300) & (freqs < 3400)].sum()
    assert copy_digest(key) != copy_digest(paths[0])
    _, _, cached = extract_training_features(paths, config=cfg, channels=("telephone",), cache=cache, workers=1)
    assert cached == 2


def test_the_encoder_is_given_each_copy_as_its_features_were_made(tmp_path):
    """The encoder states of a copy (any kind, the telephone's too) come from the same samples
    and cache key as its features: one naming of copies (training.speech), not two."""
    from ser_engine.encoder import current_spec
    from ser_engine.frontend import FrontEndConfig
    from ser_engine.segments import SegmentConfig
    from training.cache import StatesCache, extract_encoder_states, extract_training_features
    from training.speech import copy_digest

    paths = ravdess_files([2], emotions=[4], per_emotion=1)
    cfg = FeatureConfig()
    feats, _, _ = extract_training_features(paths, config=cfg, noise_snrs=(10,), channels=("telephone",), workers=1)
    cache = StatesCache(cfg, SegmentConfig(), current_spec(), tmp_path / "encoder")
    states = extract_encoder_states(feats, config=cfg, seg=SegmentConfig(), front_end=FrontEndConfig("both"),
                                    cache=cache)
    assert set(states) == set(feats) and len(feats) == 3
    for key in feats:
        stored = cache.get(copy_digest(key))
        assert stored is not None and len(stored) == len(states[key])


def test_room_copies_are_cached_under_their_own_key_and_the_encoder_gets_the_same_samples(tmp_path):
    from ser_engine.audio import load_audio
    from ser_engine.features import compute_features
    from training.cache import channel_key, extract_training_features
    from training.rooms import room_copy
    from training.speech import copy_audio

    paths = ravdess_files([1], emotions=[5], per_emotion=1)
    cfg = FeatureConfig()
    cache = FeatureCache(cfg, tmp_path / "cache")
    feats, failures, _ = extract_training_features(paths, config=cfg, channels=("room",), cache=cache, workers=1)
    key = (paths[0], channel_key("room"))
    assert failures == {} and set(feats) == {paths[0], key}
    y = load_audio(paths[0])
    copy = copy_audio(key, sr=cfg.sample_rate)
    np.testing.assert_array_equal(copy, room_copy(y, sr=cfg.sample_rate))
    np.testing.assert_allclose(feats[key], compute_features(copy, config=cfg), rtol=1e-5, atol=1e-4)
    assert not np.allclose(feats[key], feats[paths[0]])
