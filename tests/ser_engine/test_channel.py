"""What the channel left of the speech: narrow-band speech labelled alone is marked uncertain."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.signal as sig
import soundfile as sf
import soxr

from ser_engine.audio import load_audio
from ser_engine.baseline import speaker_baseline
from ser_engine.channel import (
    NARROW_BAND_DB,
    band_ratio_db,
    hides_quiet_speech,
    narrow_and_alone,
    narrow_band,
    poor_channel,
    quiet_speech_reason,
)
from ser_engine.features import FeatureConfig, filter_banks
from ser_engine.results import NO_SPEECH, Normalisation
from ser_engine.segments import (
    analyse_recording,
    group_stats,
    label_recording,
    read_recording,
    recording_from_signal,
)
from tests.conftest import ravdess_files, requires_data
from tests.ser_engine.long_fixtures import shipped_predictor  # noqa: F401 (fixture)

SR = 16000


def telephone(y):
    """300-3,400 Hz through an 8 kHz line, back at 16 kHz."""
    band = sig.sosfilt(sig.butter(4, [300, 3400], btype="bandpass", fs=SR, output="sos"), y)
    return soxr.resample(soxr.resample(band, SR, 8000), 8000, SR)[:len(y)].astype(np.float32)


def _bands():
    cfg = FeatureConfig()
    mel, _ = filter_banks(config=cfg)
    return cfg, mel, np.argmax(mel, axis=1) * cfg.sample_rate / cfg.n_fft


def test_the_ratio_is_what_speech_adds_above_4_khz_against_its_telephone_band():
    cfg, mel, centres = _bands()
    high = ((centres >= 4000) & (centres < 7500)).sum()
    low = ((centres >= 300) & (centres < 3400)).sum()
    speech = np.where(centres < 4000, 0.0, -30.0) * np.ones((6, 1))  # every band above 4 kHz 30 dB down
    pauses = np.full((4, cfg.n_mels), -100.0)
    frames, is_speech = np.concatenate([speech, pauses]), np.array([True] * 6 + [False] * 4)
    wide = band_ratio_db(frames, is_speech, mel_bank=mel, config=cfg)
    assert wide == pytest.approx(-30.0 + 10 * np.log10(high / low), abs=1e-6)
    assert band_ratio_db(speech, np.ones(6, bool), mel_bank=mel, config=cfg) == pytest.approx(wide, abs=1e-6)
    # a hiss above 4 kHz as loud in the pauses as in the speech: the speech added nothing there
    hiss = np.where(centres < 4000, -100.0, -30.0) * np.ones((4, 1))
    narrow = band_ratio_db(np.concatenate([speech, hiss]), is_speech, mel_bank=mel, config=cfg)
    assert narrow < NARROW_BAND_DB
    assert band_ratio_db(frames, np.zeros(10, bool), mel_bank=mel, config=cfg) is None


def test_narrow_band_counts_only_when_labelled_alone():
    class Result:
        band_db, snr_db = NARROW_BAND_DB - 1, 40.0
        normalisation = Normalisation("global", "training data")

    alone, baseline = Result(), Normalisation("speaker", "this recording", 40.0)
    assert narrow_band(alone.band_db) and not narrow_band(NARROW_BAND_DB + 1) and not narrow_band(None)
    assert narrow_and_alone(alone) and poor_channel(alone)
    assert not narrow_and_alone(alone, baseline) and not poor_channel(alone, baseline)


@requires_data
def test_a_telephone_clip_labelled_alone_is_uncertain_and_its_wide_band_original_is_not(
        shipped_predictor, tmp_path):  # noqa: F811
    path = ravdess_files([3], emotions=[5], per_emotion=1)[0]
    y = load_audio(path)
    clean = analyse_recording(shipped_predictor, path)
    assert clean.band_db > -40 and not narrow_and_alone(clean)
    sf.write(tmp_path / "phone.wav", telephone(y), SR, subtype="FLOAT")  # the samples given, not 16-bit ones
    sf.write(tmp_path / "8k.wav", soxr.resample(y, SR, 8000), 8000)
    for name in ("phone.wav", "8k.wav"):
        tl = analyse_recording(shipped_predictor, tmp_path / name)
        assert tl.band_db < NARROW_BAND_DB and tl.normalisation.mode == "global"
        assert tl.uncertain and all(s.uncertain for s in tl.segments if s.is_speech)
        assert tl.to_dict()["band_db"] == round(tl.band_db, 1)
    # the streamed reading and the one in memory measure the same band
    rec = recording_from_signal(shipped_predictor, telephone(y))
    assert rec.band_db == pytest.approx(read_recording(shipped_predictor, tmp_path / "phone.wav").band_db, abs=1e-3)


@requires_data
def test_with_a_speaker_baseline_from_the_same_line_the_band_does_not_mark_it(shipped_predictor):  # noqa: F811
    paths = ravdess_files([3], per_emotion=2)
    phone = [telephone(load_audio(p)) for p in paths]
    recs = [recording_from_signal(shipped_predictor, y) for y in phone]
    base = speaker_baseline(group_stats(recs), global_stats=shipped_predictor.global_stats,
                            scale=shipped_predictor.speaker_scale, frame_rate=recs[0].rate, source="folder (telephone)")
    tl = label_recording(shipped_predictor, recs[0], base)
    assert tl.label != NO_SPEECH and tl.band_db < NARROW_BAND_DB and tl.normalisation.mode == "speaker"
    assert not narrow_and_alone(tl)
    # what marks it now is the model's own confidence, as for wide-band speech
    assert tl.uncertain == (tl.confidence < shipped_predictor.bundle.uncertain_below)


def test_speech_buried_in_wide_band_noise_is_not_called_narrow_band():
    """Pink noise as loud as the speech: the speech adds nothing measurable above 4 kHz, nor much
    below it. Its band cannot be read (it was measured at -294 dB and the clip marked "narrow band",
    advising a speaker baseline); its labels are marked too noisy instead."""
    cfg, mel, centres = _bands()
    noise = np.full((4, cfg.n_mels), -30.0)
    # speech as loud as the noise in the telephone band, nothing above it: +3 dB there in the speech frames
    speech = np.where(centres < 4000, -30.0 + 10 * np.log10(2.0), -30.0) * np.ones((6, 1))
    is_speech = np.array([True] * 6 + [False] * 4)
    assert band_ratio_db(np.concatenate([speech, noise]), is_speech, mel_bank=mel, config=cfg) is None
    # noise 12 dB below the speech in every band would still hide wide-band speech's quietest high band
    clear = np.where(centres < 4000, -30.0 + 10 * np.log10(1 + 10 ** 1.2), -30.0) * np.ones((6, 1))
    assert band_ratio_db(np.concatenate([clear, noise]), is_speech, mel_bank=mel, config=cfg) is None
    # a hiss above 4 kHz 30 dB below the speech's band does not: it reads narrow (the test above)


@requires_data
def test_a_clip_in_pink_noise_at_0_db_is_too_noisy_not_narrow_band(shipped_predictor, tmp_path):  # noqa: F811
    from training.rooms import add_noise, pink_noise

    path = ravdess_files([18], emotions=[5], per_emotion=2)[1]
    y = load_audio(path)[:4 * SR]
    z = add_noise(y, pink_noise(len(y), seed=1, sr=SR), snr_db=0, sr=SR)
    sf.write(tmp_path / "noisy.wav", z * min(1.0, 0.99 / np.abs(z).max()), SR)  # 16-bit, as a recorder writes
    tl = analyse_recording(shipped_predictor, tmp_path / "noisy.wav")
    assert not narrow_band(tl.band_db) and not narrow_and_alone(tl)
    assert tl.snr_db < 5 and tl.uncertain


def test_a_session_under_the_quiet_speech_level_is_a_poor_channel_and_a_clip_is_not():
    def rec(duration, snr):
        return SimpleNamespace(duration=duration, snr_db=snr, band_db=-20.0, normalisation=None)

    assert hides_quiet_speech(rec(600.0, 12.0)) and poor_channel(rec(600.0, 12.0))
    assert quiet_speech_reason(rec(600.0, 12.0)).startswith("noisy room (speech 12 dB above the noise")
    for quiet in (rec(600.0, 25.0), rec(600.0, None), rec(4.0, 12.0)):  # a quiet room, not measured, one clip
        assert not hides_quiet_speech(quiet) and quiet_speech_reason(quiet) is None
    assert not poor_channel(rec(4.0, 12.0))
