"""Room augmentation: noise colours, SNR, babble sources, impulse responses, determinism."""

import numpy as np
import pytest

from training import rooms

SR = 16000


def _slope(y):
    """Slope of log power against log frequency between 100 and 4000 Hz (Welch)."""
    from scipy.signal import welch

    f, p = welch(y, fs=SR, nperseg=4096)
    band = (f >= 100) & (f <= 4000)
    return np.polyfit(np.log10(f[band]), np.log10(p[band]), 1)[0]


@pytest.mark.parametrize("make, exponent", [(rooms.pink_noise, 1.0), (rooms.brown_noise, 2.0)])
def test_noise_colour_level_and_seed(make, exponent):
    y = make(SR * 10, seed=3)
    assert y.dtype == np.float32 and len(y) == SR * 10
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-4)
    assert _slope(y) == pytest.approx(-exponent, abs=0.15)
    np.testing.assert_array_equal(y, make(SR * 10, seed=3))
    assert not np.array_equal(y, make(SR * 10, seed=4))


def test_empty_noise():
    assert len(rooms.pink_noise(0, seed=0)) == 0


def _clip(rng, seconds=3.0):
    """Bursts of a harmonic tone between silences: speech-like power in frames."""
    t = np.arange(int(seconds * SR)) / SR
    y = 0.2 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    y[: SR // 2] = 0
    return (y + 1e-4 * rng.standard_normal(len(y))).astype(np.float32)


@pytest.mark.parametrize("snr", [20.0, 10.0, 0.0])
def test_add_noise_sets_the_snr_against_speech_power(rng, snr):
    y = _clip(rng)
    noise = rooms.pink_noise(len(y), seed=1)
    out = rooms.add_noise(y, noise, snr_db=snr)
    added = out.astype(np.float64) - y
    measured = 10 * np.log10(rooms.speech_power(y, sr=SR) / np.mean(added ** 2))
    assert measured == pytest.approx(snr, abs=1e-3)


def test_add_noise_refuses_mismatched_lengths(rng):
    with pytest.raises(ValueError, match="samples"):
        rooms.add_noise(_clip(rng), np.zeros(10), snr_db=10)


def test_speech_power_ignores_silence(rng):
    y = _clip(rng)
    padded = np.concatenate([np.zeros(5 * SR, np.float32), y, np.zeros(5 * SR, np.float32)])
    assert rooms.speech_power(padded, sr=SR) == pytest.approx(rooms.speech_power(y, sr=SR), rel=0.05)
    assert rooms.speech_power(np.zeros(SR), sr=SR) == 0.0


def test_babble_reads_only_its_sources_and_is_deterministic(rng):
    clips = {f"/data/Actor_{a:02d}/03-01-01-01-01-01-{a:02d}.flac": _clip(np.random.default_rng(a), 2.0 + a / 10)
             for a in (2, 4, 7)}
    read = []

    def loader(path):
        read.append(path)
        return clips[path]

    allowed = list(clips)[:2]
    y = rooms.babble(SR * 6, sources=allowed, seed=5, loader=loader)
    assert set(read) <= set(allowed)
    assert rooms.speech_power(y, sr=SR) == pytest.approx(1.0, rel=1e-3)
    again = rooms.babble(SR * 6, sources=list(reversed(allowed)), seed=5, loader=loader)
    np.testing.assert_array_equal(y, again)  # the order the sources are given in does not matter
    assert not np.array_equal(y, rooms.babble(SR * 6, sources=allowed, seed=6, loader=loader))


def test_babble_errors():
    with pytest.raises(ValueError, match="source"):
        rooms.babble(SR, sources=[], seed=0)
    with pytest.raises(ValueError, match="no sound"):
        rooms.babble(SR, sources=["a"], seed=0, loader=lambda p: np.zeros(SR, np.float32))


def test_other_actor_sources():
    paths = [f"x/Actor_{a:02d}/03-01-0{e}-01-01-01-{a:02d}.flac" for a in (1, 2, 3) for e in (1, 2)]
    kept = rooms.other_actor_sources(paths, exclude_actor=2)
    assert len(kept) == 4 and not any(p.endswith("-02.flac") for p in kept)


def _decay_time(h, drop_db=20.0):
    """Seconds until the backward-integrated energy of ``h`` falls ``drop_db`` below its start."""
    edc = np.cumsum((h.astype(np.float64) ** 2)[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    return np.argmax(edc_db <= -drop_db) / SR


def test_impulse_response_starts_at_direct_path_and_follows_rt60():
    short = rooms.room_impulse_response(0.3, seed=1)
    long = rooms.room_impulse_response(0.8, seed=1)
    for h in (short, long):
        assert h[0] == pytest.approx(1.0) and np.argmax(np.abs(h)) == 0
    # the 20 dB decay of the longer room takes longer (about in proportion to the RT60)
    assert _decay_time(long) > 1.8 * _decay_time(short)
    np.testing.assert_array_equal(short, rooms.room_impulse_response(0.3, seed=1))
    assert not np.array_equal(short, rooms.room_impulse_response(0.3, seed=2))


def test_reverberate_keeps_length_and_timing():
    h = rooms.room_impulse_response(0.3, seed=0)
    y = np.zeros(SR, np.float32)
    y[8000] = 1.0
    wet = rooms.reverberate(y, h)
    assert len(wet) == len(y)
    assert np.argmax(np.abs(wet)) == 8000
    assert np.abs(wet[:8000]).max() < 1e-6  # nothing before the sound (FFT rounding only)
    assert wet[8100:].any()  # the tail rings on


@pytest.mark.parametrize("room", [rooms.Room("pink", snr_db=10), rooms.Room("brown", snr_db=5),
                                  rooms.Room("reverb", rt60=0.3)])
def test_apply_room(rng, room):
    y = _clip(rng)
    out = rooms.apply_room(y, room, seed=7)
    assert out.shape == y.shape and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, rooms.apply_room(y, room, seed=7))
    assert not np.array_equal(out, y)
    if room.kind == "reverb":  # the copy keeps the clip's speech power
        assert rooms.speech_power(out, sr=SR) == pytest.approx(rooms.speech_power(y, sr=SR), rel=1e-3)


def test_apply_room_babble_uses_the_given_sources(rng):
    src = {"a-01": _clip(np.random.default_rng(1)), "b-03": _clip(np.random.default_rng(2))}
    out = rooms.apply_room(_clip(rng), rooms.Room("babble", snr_db=10), seed=1, sources=["a-01"],
                           loader=lambda p: src[p])
    assert np.isfinite(out).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="fog", snr_db=10), "unknown room kind"),
    (dict(kind="pink"), "finite snr_db"),
    (dict(kind="babble", snr_db=float("nan")), "finite snr_db"),
    (dict(kind="reverb"), "rt60"),
    (dict(kind="reverb", rt60=9.0), "rt60"),
])
def test_room_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rooms.Room(**kwargs)


def test_room_keys():
    assert rooms.Room("pink", snr_db=10).key == "pink10"
    assert rooms.Room("reverb", rt60=0.8).key == "reverb0.8"


def test_room_copy_is_drawn_from_the_clip_and_repeats(rng):
    """Each clip's training copy is made in one room chosen by its samples, the same in every
    run, and the rooms fall across a set of clips (every kind of room is used)."""
    clips = [_clip(np.random.default_rng(i), seconds=1.0) for i in range(48)]
    drawn = [rooms.room_of(y)[0] for y in clips]
    assert set(drawn) == set(rooms.TRAINING_ROOMS)
    y = clips[0]
    out = rooms.room_copy(y, sr=SR)
    assert out.shape == y.shape and out.dtype == np.float32 and not np.array_equal(out, y)
    np.testing.assert_array_equal(out, rooms.room_copy(y.copy(), sr=SR))
    room, seed = rooms.room_of(y)
    np.testing.assert_array_equal(out, rooms.apply_room(y, room, seed=seed))
    assert all(r.kind != "babble" for r in rooms.TRAINING_ROOMS)  # needs fold-aware voices (docstring)
