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


@requires_data
def test_the_batch_size_does_not_change_a_state(monkeypatch):
    # training's cache was filled in batches of 8; the app now encodes in batches of 2
    from ser_engine.audio import load_audio

    enc = SpeechEncoder(EncoderSpec(sha256=file_digests()))
    ys = [load_audio(p) for p in ravdess_files([3, 4], emotions=[1, 5, 7], per_emotion=1)]
    x = np.stack([chunk_input(log_mel(y, s0=0, lo=0, hi=len(y) // 160, bank=whisper_mel_bank())[:CHUNK_FRAMES])
                  for y in ys])
    by = {}
    for batch in (8, 2, 1):
        monkeypatch.setattr("ser_engine.encoder.BATCH", batch)
        by[batch] = enc.encode(x)
    assert by[8].shape == (len(ys), CHUNK_FRAMES // 2, DIM)
    np.testing.assert_array_equal(by[2], by[8])
    np.testing.assert_array_equal(by[1], by[8])


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


class _SummingEncoder:
    """Stands in for Whisper: each state is the chunk's mel column pair summed, in all 384 values;
    it records the size of every call."""

    def __init__(self):
        self.calls = []

    def encode(self, chunks):
        self.calls.append(len(chunks))
        pairs = chunks.reshape(len(chunks), chunks.shape[1], -1, 2).sum(axis=(1, 3))
        return np.repeat(pairs[:, :, None], DIM, axis=2).astype(np.float32)


def test_an_hour_of_regions_is_encoded_a_group_at_a_time_with_the_same_states_and_progress():
    from ser_engine.encoder import GROUP_CHUNKS, states_from_mels

    rng = np.random.default_rng(0)
    mels = [rng.standard_normal((n, 80)).astype(np.float32) for n in [300, 2500, 40, 900] * 6]
    chunks = sum(len(chunk_plan(len(m))) for m in mels)
    whole = states_from_mels(_SummingEncoder(), mels[:1]) + states_from_mels(_SummingEncoder(), mels[1:])
    enc, seen = _SummingEncoder(), []
    grouped = states_from_mels(enc, mels, on_group=lambda *a: seen.append(a))
    for a, b in zip(whole, grouped, strict=True):
        np.testing.assert_array_equal(a, b)
    assert max(enc.calls) <= GROUP_CHUNKS < chunks  # never all of them padded at once
    assert [d for d, _, _ in seen] == sorted({min(g, chunks) for g in range(GROUP_CHUNKS, chunks + GROUP_CHUNKS,
                                                                                 GROUP_CHUNKS)})
    assert {t for _, t, _ in seen} == {chunks}
    regions_done = [r for *_, r in seen]
    assert regions_done == sorted(regions_done) and regions_done[-1] == len(mels)
    # a region counts as done once all its chunks are: after each group, the ones before the last touched
    ends = np.cumsum([len(chunk_plan(len(m))) for m in mels])
    assert all(r == int(np.searchsorted(ends, d, side="right")) for d, _, r in seen)


def test_a_cancel_between_two_groups_stops_the_encoder():
    from ser_engine.encoder import states_from_mels

    class Stop(Exception):
        pass

    def stop_after_the_first(done, total, regions):
        raise Stop

    mels = [np.zeros((900, 80), np.float32)] * 40
    enc = _SummingEncoder()
    with pytest.raises(Stop):
        states_from_mels(enc, mels, on_group=stop_after_the_first)
    assert len(enc.calls) == 1


@requires_data
def test_a_long_recording_reports_progress_while_it_is_encoded_and_a_cancel_stops_it_there(
        tiny_encoder_bundle, tmp_path, monkeypatch):
    """The encoder's states of an hour's speech took 74 s here in one call: the progress bar stood
    still at 65% and Cancel waited for it. Now every group of chunks reports and polls the cancel."""
    import soundfile as sf

    from ser_engine.audio import load_audio
    from ser_engine.bundle import load_bundle
    from ser_engine.predictor import Predictor
    from ser_engine.segments import ENCODER, LABELLING, AnalysisCancelled, progress_at

    monkeypatch.setattr("ser_engine.encoder.GROUP_CHUNKS", 4)  # 12 regions: three groups
    pause = np.full(16000, 1e-4, np.float32)
    clips = [load_audio(f) for f in ravdess_files([4], emotions=[1, 3, 5, 6], per_emotion=3)]
    path = tmp_path / "session.wav"
    sf.write(path, np.concatenate([part for y in clips for part in (pause, y)] + [pause]), 16000)
    p = Predictor(load_bundle(tiny_encoder_bundle))
    seen = []
    tl = p.analyse_recording(path, on_block=lambda u: seen.append((u.stage, u.fraction)))
    assert len([s for s in tl.segments if s.is_speech]) >= len(clips) // 2
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    start, end = progress_at(True, ENCODER, 0.0), progress_at(True, LABELLING, 0.0)
    encoding = [f for stage, f in seen if stage == "features" and start < f <= end]
    assert len(encoding) >= 3 and encoding[-1] == pytest.approx(end)

    groups = []

    def stop_in_the_encoder():
        return bool(groups)

    def on_block(u):
        if u.stage == "features" and start < u.fraction < end:
            groups.append(u.fraction)

    with pytest.raises(AnalysisCancelled):
        p.analyse_recording(path, on_block=on_block, should_stop=stop_in_the_encoder)
    assert len(groups) == 1  # stopped at the next group, not at the end of the encoder
