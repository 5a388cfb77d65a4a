import numpy as np
import pytest

from ser_engine import EMOTIONS
from ser_engine.errors import AudioLoadError
from ser_engine.predictor import Predictor
from ser_engine.segments import SegmentConfig
from tests.conftest import ORIGINAL_48K, ravdess_files, requires_data


@pytest.fixture(scope="module")
def predictor(tiny_bundle):
    return Predictor.from_path(tiny_bundle)[0]


def _check_result(r, duration=None):
    assert r.ok and r.label in EMOTIONS
    assert set(r.probabilities) == set(EMOTIONS)
    assert sum(r.probabilities.values()) == pytest.approx(1, abs=1e-6)
    assert r.confidence == pytest.approx(max(r.probabilities.values()))
    assert r.label == max(r.probabilities, key=r.probabilities.get)
    assert r.model_id == "tiny-test-model"
    assert r.segments and all(s.end > s.start for s in r.segments)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(r.segments, r.segments[1:], strict=False))
    if duration:
        assert r.duration == pytest.approx(duration, abs=0.01)
        # the segments cover the file: to its end as resampled to 16 kHz (a 48 kHz file's length
        # rounds up to whole 16 kHz samples)
        assert r.segments[0].start == 0 and r.segments[-1].end == pytest.approx(duration, abs=1e-4)


@requires_data
def test_predict_file_48k_original(predictor):
    f = sorted(ORIGINAL_48K.rglob("*.wav"))[0]
    import soundfile as sf
    r = predictor.predict_file(f)
    _check_result(r, sf.info(f).duration)
    assert r.normalisation.mode == "global"


@requires_data
def test_long_recording_gives_many_segments(predictor):
    from ser_engine.audio import load_audio
    y = np.concatenate([load_audio(f) for f in ravdess_files([4], per_emotion=1)])  # ~30 s
    r = predictor.predict_array(y, path="long", config=SegmentConfig(baseline="speaker"))
    _check_result(r, len(y) / 16000)
    assert r.normalisation.mode == "speaker"
    assert r.segments[-1].end - r.segments[0].start > 20


@requires_data
def test_predict_group_uses_a_shared_baseline(predictor, tmp_path):
    files = ravdess_files([5], per_emotion=1)
    bad = tmp_path / "broken.wav"
    bad.write_text("nope")
    results = predictor.predict_group(files + [bad])
    assert [r.ok for r in results] == [True] * len(files) + [False]
    assert results[-1].error.startswith("not a readable audio file")
    for r in results[:-1]:
        _check_result(r)
        assert r.normalisation.mode == "speaker"
        assert r.normalisation.source == f"folder {files[0].parent.name} (8 files)"
    alone = predictor.predict_file(files[0])
    assert alone.probabilities != results[0].probabilities


def test_bad_file_raises(predictor, tmp_path):
    with pytest.raises(AudioLoadError):
        predictor.predict_file(tmp_path / "missing.wav")


def test_predict_many_goes_on_after_a_bad_file(predictor, tmp_path):
    import soundfile as sf
    good = tmp_path / "tone.wav"
    t = np.arange(32000) / 16000
    sf.write(good, 0.3 * np.sin(2 * np.pi * 200 * t), 16000)
    bad = tmp_path / "x.wav"
    bad.mkdir()
    out = list(predictor.predict_many([bad, good]))
    assert [r.ok for r in out] == [False, True]
    assert out[0].error == "is a folder, not an audio file"


def test_the_first_signal_after_warm_up_imports_nothing(tmp_path):
    """warm_up must cover the feature path's imports on first use (scipy.fft: 0.1-0.2 s), or
    the first file dropped after "model ready" is 3x slower than the next (176 ms vs 60 ms,
    bench_inference 2026-11-25). A fresh process: this one has imported everything already."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from ser_engine.predictor import Predictor\n"
        "p = Predictor.from_path(None)[0]\n"
        "p.warm_up()\n"
        "y = (0.1 * np.sin(np.arange(48000) * 0.07)).astype(np.float32)\n"
        "before = set(sys.modules)\n"
        "p.predict_array(y)\n"
        "print(sorted(set(sys.modules) - before))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@requires_data
def test_group_progress_reaches_its_total_when_a_clip_cannot_be_read(predictor, tmp_path):
    files = ravdess_files([5], emotions=[1, 5], per_emotion=1)
    bad = tmp_path / "broken.wav"
    bad.write_text("nope")
    seen = []
    predictor.analyse_group(files + [bad], on_file=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] and all(a[0] < b[0] for a, b in zip(seen, seen[1:], strict=False))


def test_threads_reach_both_runtimes_and_default_to_theirs(tiny_encoder_bundle, monkeypatch):
    """A process sharing the cores (a Dask worker) asks LiteRT and the speech encoder for its share."""
    from ser_engine import encoder, litert

    asked = []
    real_litert, real_encoder = litert.LiteRTModel.__init__, encoder.SpeechEncoder.__init__

    def spy_litert(self, path, *, num_threads=None):
        asked.append(("litert", num_threads))
        real_litert(self, path, num_threads=num_threads)

    def spy_encoder(self, spec=None, *, threads=None, folder=None):
        asked.append(("encoder", threads))
        real_encoder(self, spec, threads=threads, folder=folder)

    monkeypatch.setattr(litert.LiteRTModel, "__init__", spy_litert)
    monkeypatch.setattr(encoder.SpeechEncoder, "__init__", spy_encoder)
    one = Predictor.from_path(tiny_encoder_bundle)[0]
    assert one.threads is None
    one.warm_up()
    shared = Predictor(one.bundle, threads=1)
    assert shared.threads == 1
    shared.warm_up()
    assert asked == [("litert", None), ("encoder", None), ("litert", 1), ("encoder", 1)]
