import numpy as np
import pytest
import soundfile as sf

from ser_engine.audio import iter_audio_files, load_audio
from ser_engine.errors import AudioLoadError
from tests.conftest import ORIGINAL_48K, SPEECH_16K, requires_data


def _sine(sr, seconds=1.0, freq=440.0, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(y[:, None], channels, axis=1) if channels > 1 else y


def _dominant_frequency(y, sr=16000):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spec)]


@requires_data
def test_original_48k_wavs_load_resampled_to_16k():
    files = sorted(ORIGINAL_48K.rglob("*.wav"))
    assert len(files) == 18
    for f in files:
        info = sf.info(f)
        y = load_audio(f)
        assert y.dtype == np.float32 and y.ndim == 1
        assert abs(len(y) - info.duration * 16000) <= 2


@requires_data
def test_stereo_original_is_downmixed():
    stereo = [f for f in ORIGINAL_48K.rglob("*.wav") if sf.info(f).channels == 2]
    assert stereo, "the data README promises stereo originals"
    data, sr = sf.read(stereo[0], dtype="float32")
    y = load_audio(stereo[0], sr=sr)  # no resampling: compare with the plain channel mean
    np.testing.assert_allclose(y, data.mean(axis=1), atol=1e-6)


@requires_data
def test_flac_16k_is_read_unchanged():
    f = sorted((SPEECH_16K / "Actor_03").glob("*.flac"))[0]
    data, sr = sf.read(f, dtype="float32")
    assert sr == 16000
    np.testing.assert_array_equal(load_audio(f), data)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_subtypes(tmp_path, subtype):
    p = tmp_path / f"tone_{subtype}.wav"
    sf.write(p, _sine(22050), 22050, subtype=subtype)
    y = load_audio(p)
    assert len(y) == 16000
    assert abs(_dominant_frequency(y) - 440) < 5
    assert np.abs(y).max() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("sr", [8000, 11025, 44100, 96000])
def test_any_rate_and_channel_count(tmp_path, sr):
    p = tmp_path / "six.flac" if sr <= 96000 else tmp_path / "six.wav"
    sf.write(p, _sine(sr, channels=6), sr)
    y = load_audio(p)
    assert abs(len(y) - 16000) <= 1
    assert abs(_dominant_frequency(y) - 440) < 5


def test_ogg_is_read(tmp_path):
    p = tmp_path / "tone.ogg"
    sf.write(p, _sine(16000), 16000, format="OGG", subtype="VORBIS")
    assert abs(_dominant_frequency(load_audio(p)) - 440) < 5


def _header_only(path):
    sf.write(path, np.zeros(0), 16000, subtype="PCM_16")


def _truncated(path):
    sf.write(path, _sine(16000), 16000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:30])


def _nan(path):
    y = _sine(16000)
    y[100] = np.nan
    sf.write(path, y, 16000, subtype="FLOAT")


def _inf(path):
    y = _sine(16000)
    y[5] = np.inf
    sf.write(path, y, 16000, subtype="DOUBLE")


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    (lambda p: p.write_text("this is not audio"), "not a readable audio file"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), "not a readable audio file"),
    (_header_only, "holds no audio samples"),
    (_truncated, "not a readable audio file"),
    (_nan, "non-finite"),
    (_inf, "non-finite"),
    (lambda p: sf.write(p, _sine(16000, seconds=0.05), 16000), "too short"),
    (lambda p: p.mkdir(), "is a folder"),
], ids=["empty", "text", "png", "header-only", "truncated", "nan", "inf", "too-short", "folder"])
def test_bad_files_raise_a_clear_error(tmp_path, make, reason):
    p = tmp_path / "bad file é.wav"
    make(p)
    with pytest.raises(AudioLoadError) as err:
        load_audio(p)
    assert reason in str(err.value)
    assert str(p) in str(err.value), "the message names the file"


def test_libsndfile_reason_does_not_repeat_the_path(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("not audio")
    with pytest.raises(AudioLoadError) as err:
        load_audio(p)
    message = str(err.value)
    assert message.count(str(p)) == 1 and "\n" not in message
    assert message == f"{p}: not a readable audio file (Format not recognised.)"


def test_absurd_float_samples_are_refused(tmp_path):
    # an int16 recording written as float without scaling peaks at ~32767: still fine;
    # 1e30 is no recording at all and would overflow the features
    p = tmp_path / "huge.wav"
    y = _sine(16000)
    sf.write(p, y * 32767, 16000, subtype="FLOAT")
    assert np.abs(load_audio(p)).max() == pytest.approx(0.5 * 32767, rel=1e-3)
    y[10] = 1e30
    sf.write(p, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioLoadError, match="far outside"):
        load_audio(p)


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    import os

    p = tmp_path / "pipe.wav"
    os.mkfifo(p)
    with pytest.raises(AudioLoadError, match="not a regular file"):
        load_audio(p)


def test_many_channels_are_read_in_bounded_blocks(tmp_path, monkeypatch):
    import ser_engine.audio as audio

    reads = []
    real = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        reads.append(frames * self.channels)
        return real(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    p = tmp_path / "many.wav"
    sf.write(p, np.tile(_sine(16000, seconds=0.5)[:, None], (1, 64)), 16000, subtype="PCM_16")
    y = load_audio(p)
    assert len(y) == 8000 and max(reads) <= audio._BLOCK_SAMPLES


def test_missing_file(tmp_path):
    with pytest.raises(AudioLoadError, match="file not found"):
        load_audio(tmp_path / "nope.wav")


def test_long_file_is_read_in_blocks_without_seams(tmp_path):
    # Longer than one read block (2^18 frames at 48 kHz): resampling must be continuous.
    sr = 48000
    p = tmp_path / "long.wav"
    sf.write(p, _sine(sr, seconds=12.0, freq=1000.0), sr, subtype="FLOAT")
    y = load_audio(p)
    assert abs(len(y) - 12 * 16000) <= 2
    expected = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(len(y)) / 16000)
    # soxr's steady-state error on a pure tone is tiny; a seam would be a large jump
    assert np.abs(y[1000:-1000] - expected[1000:-1000]).max() < 1e-3


def test_iter_audio_files_walks_folders(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.wav", "a/b/y.FLAC", "a/notes.txt", "a/.hidden.wav", "z.mp3"):
        (tmp_path / name).write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_audio_files([tmp_path / "a", tmp_path / "z.mp3"])]
    assert found == ["a/x.wav", "a/b/y.FLAC", "z.mp3"]
