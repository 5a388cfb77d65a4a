"""What a recording's channel left of its speech, and when that makes its labels untrustworthy.

A telephone line, or a file sampled at 8 kHz, keeps nothing of speech above 4 kHz. The model
learnt from wide-band studio speech: labelled alone (with the training data's statistics) such
a clip is misread, and with confidence. In the channel-shift test (BENCHMARKS.md "Robustness
across recordings") the same 150 clips of unseen actors scored 75% clean and 44% through a
telephone band, and the telephone answers above the model's "uncertain" threshold were right
less often (40%) than those below it: confidence does not warn. With a speaker baseline from the
same channel they scored 77%, calibrated as clean speech is. So a narrow-band recording
labelled without a speaker baseline is marked uncertain, with this reason; with one it is not.

The measure (:func:`band_ratio_db`): the power that speech adds to the log-mel bands between
4 and 7.5 kHz against its power between 0.3 and 3.4 kHz, in dB. Its figures on
RAVDESS clips, clean and through each channel of that test, are in the comment of
:data:`NARROW_BAND_DB`.
"""

import numpy as np

from .results import is_session
from .vad import quiet_speech_note, too_noisy

#: Frequencies (Hz) of the speech band a telephone keeps, and of the band above it that wide-band
#: speech has and a telephone line does not.
SPEECH_BAND = (300.0, 3400.0)
HIGH_BAND = (4000.0, 7500.0)
#: Speech that adds this little (dB) to the high band against its speech band is narrow-band.
#: Measured with :func:`band_ratio_db` (every tenth frame, as the app reads) on 80 RAVDESS clips
#: through each channel of bench/bench_channels.py, and with white hiss added: clean -37.5 to
#: -13.1 dB, and none of them below the threshold with a laptop microphone's response, RT60 0.5 s,
#: 20 dB quieter, hiss 20 or 10 dB below the speech, or MP3 at ~20 kbit/s (lowest -45.4). Opus at
#: ~10 kbit/s: 2 of 80 below (at such rates Opus narrows the band itself). Telephone band: all 80
#: (highest -88.3), also scaled to -40 dBFS in 16-bit samples (highest -75.3) and with hiss 40 dB
#: below the speech added after the line (highest -57.2); with hiss 25 dB below, only 24 of 80.
#: Pink noise as loud as the speech made 10 of 80 wide-band clips read narrow (2026-12-04) until
#: :data:`CLEAN_HIGH_BAND_DB` guarded the reading: now none (80 not measured; at 10 dB, 70 not
#: measured, none narrow), and the telephone figures above are unchanged.
NARROW_BAND_DB = -55.0
#: The quietest high band of clean speech against its telephone band (dB; the lowest clean figure
#: above). Where the noise above 4 kHz in the pauses is more than 10 dB louder than that, wide-band
#: speech could add less than a tenth to it there, within the noise's own wobble: the band cannot be
#: read.
CLEAN_HIGH_BAND_DB = -37.5


def band_centres(mel_bank, *, config):
    """The frequency (Hz) at which each mel filter of ``mel_bank`` (n_mels, 1 + n_fft // 2) peaks."""
    return np.argmax(np.asarray(mel_bank), axis=1) * (config.sample_rate / config.n_fft)


def band_ratio_db(log_mel, speech, *, mel_bank, config):
    """The speech's power above 4 kHz against its power in the telephone band (dB), or None
    without speech frames, or when the noise above 4 kHz could hide wide-band speech.

    The high band's power in the pauses is taken off its power in the speech first, so a
    telephone line recorded with a wide-band hiss after it (a recorder beside a speakerphone)
    still measures as narrow: the hiss is there in the pauses too, speech adds nothing to it.
    But where that noise is more than 10 dB louder than the quietest high band of clean speech
    (:data:`CLEAN_HIGH_BAND_DB`), as in pink noise as loud as the speech, speech adding nothing
    there says nothing about the channel: not measured (such speech is marked too noisy instead).

    Parameters
    ----------
    log_mel : np.ndarray [shape=(n, n_mels)]
        Log-mel frames (dB) of the recording (:mod:`ser_engine.features`; every few frames
        is enough: the reading stage keeps every tenth).
    speech : np.ndarray [shape=(n,), dtype=bool]
        Which of those frames are speech (the voice activity mask at the same frames).
    mel_bank : np.ndarray [shape=(n_mels, 1 + n_fft // 2)]
    config : FeatureConfig
    """
    speech = np.asarray(speech, bool)
    if not speech.any():
        return None
    power = 10.0 ** (np.asarray(log_mel, np.float64) / 10.0)
    centres = band_centres(mel_bank, config=config)
    high = (centres >= HIGH_BAND[0]) & (centres < HIGH_BAND[1])
    low = (centres >= SPEECH_BAND[0]) & (centres < SPEECH_BAND[1])
    in_speech = power[speech].mean(axis=0)
    in_pauses = power[~speech].mean(axis=0) if (~speech).any() else np.zeros_like(in_speech)
    speech_band = in_speech[low].sum() - in_pauses[low].sum()
    if speech_band <= 0 or in_pauses[high].sum() > speech_band * 10.0 ** ((CLEAN_HIGH_BAND_DB + 10.0) / 10.0):
        return None
    added = in_speech[high].sum() - in_pauses[high].sum()
    return float(10.0 * np.log10(max(added, 1e-30) / max(in_speech[low].sum(), 1e-30)))


def narrow_band(ratio_db):
    """Whether speech with this :func:`band_ratio_db` (None: not measured) is narrow-band."""
    return ratio_db is not None and ratio_db < NARROW_BAND_DB


def narrow_and_alone(result, normalisation=None):
    """Whether a recording's answer (``result``: anything with ``band_db``), or one speaker's
    (``normalisation``: that speaker's), comes from narrow-band speech labelled without a
    speaker baseline: the case this module's figures say not to trust."""
    norm = normalisation if normalisation is not None else result.normalisation
    return narrow_band(getattr(result, "band_db", None)) and norm.mode == "global"


def speaker_normalisation(result, index):
    """The normalisation speaker ``index`` of ``result`` was labelled with (the recording's
    when the speaker is not found)."""
    speaker = result.speaker_result(index)
    return result.normalisation if speaker is None else speaker.normalisation


def poor_channel(result, normalisation=None):
    """Whether a recording's answer (or one speaker's: ``normalisation``) cannot be trusted for
    what the channel did to the speech: too noisy (:func:`ser_engine.vad.too_noisy`),
    narrow-band and labelled alone, or a session whose room may have hidden its quiet speech
    (:func:`hides_quiet_speech`)."""
    return (too_noisy(getattr(result, "snr_db", None)) or narrow_and_alone(result, normalisation)
            or hides_quiet_speech(result))


def hides_quiet_speech(result):
    """Whether a session (longer than one utterance: :data:`~ser_engine.results.LONG_RECORDING_S`)
    lies so little above its room's noise that its quiet speech may not have been found
    (:func:`ser_engine.vad.quiet_speech_note`). Its share of speech time then leans to the loud
    emotions: in pink noise 10 dB below a speaker's level, 1 of 40 calm clips was found and 37 of
    40 angry ones (BENCHMARKS.md "Voice activity in rooms"), and a balanced session read "angry,
    80% of speech". A clip of one utterance is its own speech, found or not: its label holds as
    it is (found clips in such rooms were labelled about as well as in a quiet one)."""
    return is_session(result) and quiet_speech_note(getattr(result, "snr_db", None)) is not None


def quiet_speech_reason(result):
    """Why :func:`hides_quiet_speech` makes a session's answer uncertain, in a clinician's words,
    or None."""
    return quiet_speech_note(result.snr_db) if hides_quiet_speech(result) else None


def narrow_band_reason(result, normalisation=None):
    """Why the channel makes a label uncertain, in a clinician's words, or None."""
    if not narrow_and_alone(result, normalisation):
        return None
    return (f"narrow band: almost nothing above 4 kHz ({result.band_db:.0f} dB; a telephone line or 8 kHz audio), "
            "labelled without a speaker baseline; choose one (Speaker baseline) to label such speech")
