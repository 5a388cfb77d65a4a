"""Clinician reviews: keyed by content hash, saved atomically, survive a restart, never touch the audio."""

import json

import pytest

from ser_engine.results import NO_SPEECH, Segment
from ser_engine.review import (Review, ReviewError, delete_review, for_timeline, load_review, review_path,
                               save_review)
from ser_engine.segments import file_sha256
from ser_engine.paths import user_data_dir


def _segments():
    return [Segment(0.0, 1.0, NO_SPEECH, None, {}),
            Segment(1.0, 4.0, "calm", 0.7, {"calm": 0.7, "sad": 0.2, "angry": 0.1}),
            Segment(4.0, 6.0, "angry", 0.9, {"calm": 0.1, "sad": 0.0, "angry": 0.9}),
            Segment(6.0, 7.0, NO_SPEECH, None, {})]


@pytest.fixture
def audio(tmp_path):
    p = tmp_path / "session.wav"
    p.write_bytes(b"RIFF-not-really-audio-but-bytes" * 100)
    return p


def test_corrections_survive_a_restart_and_the_audio_is_untouched(audio):
    before = audio.read_bytes()
    r = load_review(audio)
    assert r.intervals == [] and r.audio_sha256 == file_sha256(audio)
    r.model_id, r.model_version = "m", "1"
    r.set_label(1.0, 4.0, "sad")
    r.set_label(6.2, 6.8, "angry")  # a free interval
    written = save_review(r)
    assert written == review_path(r.audio_sha256) == user_data_dir() / "reviews" / f"{r.audio_sha256}.json"
    # "restart": new objects, from disk
    again = load_review(audio)
    assert again.label_for(1.0, 4.0) == "sad" and again.label_for(4.0, 6.0) is None
    assert again.label_at(6.5) == "angry" and again.model_id == "m" and again.created
    assert audio.read_bytes() == before
    # the same bytes under another name find the same review
    moved = audio.with_name("renamed.wav")
    moved.write_bytes(before)
    assert load_review(moved).label_for(1.0, 4.0) == "sad"


def test_set_clear_and_no_overlaps():
    r = Review("abc")
    r.set_label(1.0, 4.0, "sad")
    r.set_label(3.0, 5.0, "happy")  # cuts the first back
    assert [(i.start, i.end, i.label) for i in r.intervals] == [(1.0, 3.0, "sad"), (3.0, 5.0, "happy")]
    r.clear(3.0, 5.0)
    assert [(i.start, i.end) for i in r.intervals] == [(1.0, 3.0)]
    r.clear_all()
    assert r.intervals == []
    with pytest.raises(ValueError):
        r.set_label(2.0, 2.0, "sad")


def test_effective_tier_and_summary():
    r = Review("abc")
    r.set_label(1.0, 4.0, "sad")
    eff = r.effective_segments(_segments())
    assert eff == [(0.0, 1.0, NO_SPEECH, "model"), (1.0, 4.0, "sad", "clinician"), (4.0, 6.0, "angry", "model"),
                   (6.0, 7.0, NO_SPEECH, "model")]
    s = r.summary(_segments(), ["calm", "sad", "angry"], duration=7.0)
    # the clinician's 3 s count whole; the model's uncorrected 2 s keep its estimate (0.9 angry)
    assert s.seconds == pytest.approx({"calm": 0.2, "sad": 3.0, "angry": 1.8}) and s.no_speech_seconds == 2.0
    assert s.shares["sad"] == pytest.approx(0.6)
    # with nothing corrected, the corrected tier says what the model says
    model = Review("abc").summary(_segments(), ["calm", "sad", "angry"], duration=7.0)
    assert model.seconds == pytest.approx({"calm": 2.3, "sad": 0.6, "angry": 2.1})


def test_user_chosen_path_clear_and_bad_files(audio, tmp_path):
    r = load_review(audio)
    r.set_label(1.0, 4.0, "calm")
    chosen = tmp_path / "my reviews" / "s1.json"
    save_review(r, chosen)
    assert chosen.exists() and not review_path(r.audio_sha256).exists()
    assert load_review(audio, path=chosen).label_for(1.0, 4.0) == "calm"
    other = tmp_path / "other.wav"
    other.write_bytes(b"different")
    with pytest.raises(ReviewError, match="another recording"):
        load_review(other, path=chosen)
    assert delete_review(load_review(audio, path=chosen)) and not chosen.exists()
    broken = review_path(r.audio_sha256)
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("{ not json")
    with pytest.raises(ReviewError) as err:
        load_review(audio)
    assert str(broken) in str(err.value) and "\n" not in str(err.value)
    for damaged in ("[]", "42", "null", '"text"'):  # valid JSON, wrong shape: AttributeError before
        broken.write_text(damaged)
        with pytest.raises(ReviewError, match="not a readable review"):
            load_review(audio)
    broken.write_text(json.dumps({"format": "ser-studio-review", "format_version": 99, "audio": {"sha256": "x"}}))
    with pytest.raises(ReviewError, match="newer"):
        load_review(audio)


def test_for_timeline_stamps_the_model(audio):
    from ser_engine.results import Timeline

    tl = Timeline(str(audio), 7.0, _segments(), ("calm", "sad", "angry"), "model-x", "2.0", "global",
                  sha256=file_sha256(audio))
    r = for_timeline(tl)
    assert (r.model_id, r.model_version, r.audio_name) == ("model-x", "2.0", "session.wav")
    r.set_label(4.0, 6.0, "calm")
    save_review(r)
    assert for_timeline(tl).label_for(4.0, 6.0) == "calm"
