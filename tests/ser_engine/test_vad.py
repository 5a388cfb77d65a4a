"""The speech detector of ser_engine.vad: rooms, voices, no speech, streaming, SNR, bad input."""

import numpy as np
import pytest

from ser_engine.errors import SignalError
from ser_engine.features import FeatureConfig, n_frames
from ser_engine.segments import SegmentConfig, speech_regions
from ser_engine.vad import SNR_MAX_DB, SNR_QUIET_MISSED_DB, SpeechDetector, quiet_speech_note, speech_mask, stretch_snrs
from tests.conftest import requires_data

SR = 16000
FC = FeatureConfig()


def _session(actor=16, *, clips=8, level=-24.0, seed=0):
    """A short session with known truth: ``clips`` of one actor after pauses of 1.6-2.5 s, each
    clip at ``level`` (so each clip's SNR in a room is the room's)."""
    from bench import rooms

    return rooms.equal_level(actor, clips=clips, level=level, seed=seed, pause=(1.6, 2.5))


def _scores(mask, session):
    from bench import rooms

    d = rooms.score_segments(rooms.mask_segments(mask, duration=session.duration), session)
    return d.clips_found / d.clips, d.pauses_kept / d.pauses


def _in_room(session, kind, snr, seed=1):
    from bench import rooms

    return rooms.in_room(session, rooms.BenchRoom(kind, kind, snr_db=snr), seed=seed,
                         exclude_actors=(16, 13))


@requires_data
@pytest.mark.parametrize("kind, snr", [("clean", None), ("pink", 10.0), ("brown", 10.0), ("brown", 5.0)])
def test_steady_noise_pauses_stay_no_speech(kind, snr):
    s = _session() if kind == "clean" else _in_room(_session(), kind, snr)
    found, kept = _scores(speech_mask(s.audio), s)
    assert found == 1.0
    assert kept == 1.0


@requires_data
def test_babble_of_other_actors_at_10_db():
    s = _in_room(_session(), "babble", 10.0)
    found, kept = _scores(speech_mask(s.audio), s)
    assert found >= 7 / 8
    assert kept >= 0.8
    # the energy rule it replaces takes the babble for speech everywhere
    from bench.bench_rooms import energy_today

    assert _scores(energy_today(s.audio), s)[1] == 0.0


@requires_data
def test_quiet_speaker_beside_a_loud_one():
    from bench import rooms

    s = rooms.in_room(rooms.two_speakers(16, 13, level_a=-20.0, level_b=-40.0, seed=2, clips_each=5),
                      rooms.BenchRoom("hiss", "pink", snr_db=50.0), seed=3)
    mask = speech_mask(s.audio)
    from bench import sessions

    labels = sessions.clip_labels(rooms.mask_segments(mask, duration=s.duration), s.clips)
    quiet = [found for (found, _), c in zip(labels, s.clips, strict=True) if c.speaker == 1]
    assert len(quiet) == 5 and all(quiet)


@requires_data
def test_quiet_speaker_alone():
    s = _in_room(_session(7, level=-50.0), "pink", 25.0)
    found, kept = _scores(speech_mask(s.audio), s)
    assert found == 1.0 and kept == 1.0


@pytest.mark.parametrize("make", [
    lambda rng: np.zeros(SR * 20, np.float32),
    lambda rng: (1e-4 * rng.standard_normal(SR * 20)).astype(np.float32),
    # a hum with hiss that never rises above its own floor
    lambda rng: (0.05 * np.sin(2 * np.pi * 50 * np.arange(SR * 20) / SR)
                 + 1e-3 * rng.standard_normal(SR * 20)).astype(np.float32),
], ids=["digital silence", "hiss", "hum"])
def test_no_speech_at_all(rng, make):
    y = make(rng)
    mask = speech_mask(y)
    assert len(mask) == n_frames(len(y), config=FC)
    assert not mask.any()


def test_clicks_are_not_speech(rng):
    y = (1e-4 * rng.standard_normal(SR * 20)).astype(np.float32)
    for t in rng.integers(SR, SR * 19, 15):
        y[t:t + 40] += 0.3 * np.hanning(40)
    mask = speech_mask(y)
    assert speech_regions(mask, config=FC, seg=SegmentConfig()) == []
    runs = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    assert (np.flatnonzero(runs == -1) - np.flatnonzero(runs == 1)).max(initial=0) < 25  # < 0.25 s each


@requires_data
def test_quiet_ravdess_files_keep_their_silences():
    """Issue 19, defect 8: the quiet files of actor 11 were speech from start to end."""
    from bench import sessions
    from ser_engine.audio import load_audio

    throughout = 0
    for path in sessions.actor_clips(11):
        mask = speech_mask(load_audio(path))
        regions = speech_regions(mask, config=FC, seg=SegmentConfig())
        assert regions  # the speech is still found
        throughout += regions[0][0] == 0 and regions[-1][1] == len(mask)
    assert throughout == 0


@requires_data
@pytest.mark.parametrize("block", [1000, 159, 160, 161, 4096, 48000, "random"])
def test_streamed_mask_equals_one_pass(rng, block):
    s = _in_room(_session(clips=3), "pink", 10.0)
    y = s.audio
    whole = SpeechDetector()
    whole.feed(y)
    expected = whole.finish()
    det = SpeechDetector()
    i = 0
    while i < len(y):
        k = int(rng.integers(1, 20000)) if block == "random" else block
        det.feed(y[i:i + k])
        i += k
    np.testing.assert_array_equal(det.finish(), expected)
    np.testing.assert_array_equal(det.frame_power, whole.frame_power)
    np.testing.assert_array_equal(speech_mask(y), expected)


def test_tiny_blocks_equal_one_pass(rng):
    y = (0.01 * rng.standard_normal(3000)).astype(np.float32)
    y[1000:2000] += 0.3 * np.sin(np.arange(1000) / 5)
    det = SpeechDetector()
    for x in y:
        det.feed(np.array([x]))
    np.testing.assert_array_equal(det.finish(), speech_mask(y))


@pytest.mark.parametrize("n", [1, 159, 160, 161, 16000, 16001])
def test_mask_has_one_value_per_feature_frame(n):
    assert len(speech_mask(np.zeros(n, np.float32))) == n_frames(n, config=FC)


@requires_data
@pytest.mark.parametrize("kind, snr", [("pink", 20.0), ("pink", 10.0), ("brown", 10.0), ("pink", 5.0)])
def test_snr_estimate_of_a_known_mixture(kind, snr):
    s = _in_room(_session(), kind, snr)
    det = SpeechDetector()
    det.feed(s.audio)
    det.finish()
    assert det.snr_db() == pytest.approx(snr, abs=2.0)


@requires_data
def test_stretch_snr_follows_the_noise_around_it():
    """Two halves in different rooms: each stretch reads its own room's SNR."""
    a = _in_room(_session(clips=4, seed=1), "pink", 20.0)
    b = _in_room(_session(clips=4, seed=2), "pink", 5.0)
    y = np.concatenate([a.audio, b.audio])
    det = SpeechDetector()
    det.feed(y)
    mask = det.finish()
    half = len(a.audio) // 160
    first, second = stretch_snrs(det.frame_power, mask, [(0, half), (half, len(mask))])
    assert first == pytest.approx(20.0, abs=3.0)
    assert second == pytest.approx(5.0, abs=3.0)
    meter = det.snr_meter()  # what a long recording's segments use: the noise computed once
    assert (meter(0, half), meter(half, len(mask))) == (first, second)


def test_snr_without_noise_or_without_speech(rng):
    det = SpeechDetector()
    y = np.zeros(SR * 6, np.float32)
    y[SR * 2:SR * 4] = 0.3 * np.sin(2 * np.pi * 200 * np.arange(SR * 2) / SR) * (np.arange(SR * 2) % 4000 < 2500)
    det.feed(y)
    mask = det.finish()
    assert mask.any()
    assert det.snr_db() == SNR_MAX_DB  # speech in digital silence
    assert det.snr_db(0, SR // 160) is None  # a stretch without speech
    silent = SpeechDetector()
    silent.feed(np.zeros(SR, np.float32))
    silent.finish()
    assert silent.snr_db() is None


@pytest.mark.parametrize("bad, match", [
    (np.array([0.0, np.nan, 0.1]), "NaN"),
    (np.array([0.0, np.inf]), "NaN or infinite"),
    (np.zeros((2, 100)), "mono"),
    (np.array(["a", "b"]), "numbers"),
])
def test_bad_blocks_raise_a_signal_error(bad, match):
    with pytest.raises(SignalError, match=match):
        speech_mask(bad)


def test_empty_and_too_short_signals():
    assert speech_mask(np.zeros(0, np.float32)).shape == (0,)
    det = SpeechDetector()
    det.feed([])
    assert det.finish().shape == (0,)
    assert not speech_mask(np.full(10, 0.5, np.float32)).any()


def test_misuse_is_refused():
    with pytest.raises(ValueError, match="16000"):
        SpeechDetector(sample_rate=22050)
    det = SpeechDetector()
    det.feed(np.zeros(100))
    det.finish()
    with pytest.raises(ValueError, match="finished"):
        det.feed(np.zeros(100))
    with pytest.raises(ValueError, match="finish"):
        _ = SpeechDetector().frame_power


def test_a_recording_below_the_quiet_speech_level_says_quiet_speech_may_be_missed():
    assert quiet_speech_note(None) is None  # not measured: nothing claimed
    assert quiet_speech_note(SNR_QUIET_MISSED_DB) is None and quiet_speech_note(SNR_MAX_DB) is None
    note = quiet_speech_note(12.4)
    assert note.startswith("noisy room (speech 12 dB above the noise, below 25 dB): quiet speech may be missed")
    assert "loud emotions" in note
