"""The pretrained ear: Whisper tiny.en's encoder frames, from the wheel, checked and aligned."""

import json
import shutil

import numpy as np
import pytest

from ser_engine.encoder import (
    CHUNK_FRAMES,
    DIM,
    EncoderSpec,
    SpeechEncoder,
    chunk_input,
    chunk_plan,
    file_digests,
    log_mel,
    region_states,
    whisper_mel_bank,
)
from ser_engine.errors import ModelLoadError
from tests.conftest import ravdess_files, requires_data


@pytest.mark.parametrize("n", [1, 2, 999, 1000, 1001, 1799, 2500, 6001])
def test_a_region_of_any_length_keeps_every_state_once_away_from_chunk_edges(n):
    plan = chunk_plan(n)
    kept = []
    for a, keep_from, keep_to in plan:
        assert a % 2 == 0 and a <= keep_from < keep_to <= min(a + CHUNK_FRAMES, n + 1)
        kept += list(range((keep_from - a) // 2 + a // 2, (keep_to - a + 1) // 2 + a // 2))
        inner = (keep_from, keep_to)
        if len(plan) > 1:  # away from the edges of its chunk, except at the region's own edges
            assert inner[0] == 0 or inner[0] - a >= 100
            assert inner[1] == n or a + CHUNK_FRAMES - inner[1] >= 100
    assert kept == list(range((n + 1) // 2))


def test_a_chunk_is_padded_with_whispers_silence():
    mel = np.full((300, 80), -3.0, np.float32)
    mel[10] = 1.0
    x = chunk_input(mel)
    assert x.shape == (80, CHUNK_FRAMES)
    assert x[0, 10] == pytest.approx((1.0 + 4) / 4)
    assert x[0, 0] == pytest.approx((-3.0 + 4) / 4)  # within 8 of the maximum: kept
    assert np.all(x[:, 300:] == pytest.approx((1.0 - 8 + 4) / 4))  # the clamp's floor


@requires_data
def test_the_log_mel_of_a_piece_equals_the_one_of_the_whole_signal():
    from ser_engine.audio import load_audio

    y = load_audio(ravdess_files([3], emotions=[5], per_emotion=1)[0])
    bank = whisper_mel_bank()
    whole = log_mel(y, s0=0, lo=40, hi=300, bank=bank)
    s0 = 32 * 160
    piece = log_mel(y[s0:s0 + 300 * 160], s0=s0, lo=40, hi=300, bank=bank)
    np.testing.assert_allclose(piece, whole, atol=1e-5)


@requires_data
def test_the_encoder_gives_one_state_per_20_ms_of_a_region_and_repeats_itself():
    from ser_engine.audio import load_audio

    y = load_audio(ravdess_files([3], emotions=[5], per_emotion=1)[0])
    enc = SpeechEncoder(EncoderSpec(sha256=file_digests()))
    pieces = [(y, 0, 50, 251), (y, 0, 260, 300)]
    a = region_states(enc, pieces, bank=whisper_mel_bank())
    b = region_states(enc, pieces[:1], bank=whisper_mel_bank())
    assert [s.shape for s in a] == [(101, DIM), (20, DIM)]
    assert all(np.isfinite(s).all() for s in a)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)  # batched with another region or alone


def test_an_encoder_whose_files_differ_from_the_bundles_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="differ from those the model was trained with"):
        SpeechEncoder(EncoderSpec(sha256=(("model.bin", "0" * 64),)))


@requires_data
def test_a_bundle_reading_encoder_frames_labels_clips_the_same_streamed_or_in_memory(tiny_encoder_bundle):
    from ser_engine.audio import load_audio
    from ser_engine.bundle import load_bundle
    from ser_engine.predictor import Predictor

    bundle = load_bundle(tiny_encoder_bundle)
    assert bundle.front_end.kind == "both" and dict(bundle.encoder_spec.sha256)["model.bin"]
    assert bundle.whisper_bank is not None and bundle.manifest["normalisation"]["speaker_scale"] == "global"
    p = Predictor(bundle)
    assert p.frame_rate == 50 and p.window.length == 150 and p.runtime == "litert"
    f = ravdess_files([5], emotions=[6], per_emotion=1)[0]
    tl = p.predict_file(f)
    arr = p.predict_array(load_audio(f), path=str(f))
    assert tl.label == arr.label
    np.testing.assert_allclose([tl.probabilities[k] for k in p.labels], [arr.probabilities[k] for k in p.labels],
                               atol=1e-4)
    speech = [s for s in tl.segments if s.is_speech]
    assert speech and speech[0].start > 0.2 and tl.segments[-1].end == pytest.approx(tl.duration)


@requires_data
def test_a_bundle_whose_encoder_checksum_is_changed_is_refused(tiny_encoder_bundle, tmp_path):
    from ser_engine.bundle import load_bundle
    from ser_engine.predictor import Predictor

    copy = tmp_path / "bundle"
    shutil.copytree(tiny_encoder_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["encoder"]["sha256"]["model.bin"] = "f" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="differ from those the model was trained with"):
        Predictor(load_bundle(copy)).warm_up()
    del manifest["encoder"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="does not name the encoder"):
        load_bundle(copy)
