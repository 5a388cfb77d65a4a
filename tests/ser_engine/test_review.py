"""Clinician reviews: keyed by content hash, saved atomically, survive a restart, never touch the audio."""

import json

import pytest

from ser_engine.paths import user_data_dir
from ser_engine.results import NO_SPEECH, Segment
from ser_engine.review import (
    ESTIMATE,
    FORMAT_VERSION,
    Note,
    Review,
    ReviewError,
    delete_review,
    for_timeline,
    load_review,
    older_copy,
    review_path,
    save_review,
)
from ser_engine.segments import file_sha256


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


def _two_speakers():
    probs = {"calm": 0.6, "sad": 0.3, "angry": 0.1}
    return [Segment(0.0, 1.0, NO_SPEECH, None, {}),
            Segment(1.0, 3.0, "calm", 0.6, dict(probs), speaker=0),
            Segment(3.0, 4.0, NO_SPEECH, None, {}),
            Segment(4.0, 6.0, "angry", 0.9, {"calm": 0.05, "sad": 0.05, "angry": 0.9}, speaker=1),
            Segment(6.0, 7.0, "sad", 0.7, {"calm": 0.2, "sad": 0.7, "angry": 0.1}, speaker=2),
            Segment(7.0, 8.0, "calm", 0.6, dict(probs), speaker=0)]


#: A review as format 1 wrote it (before speakers were reviewed): the exact shape.
FORMAT_1 = {"format": "ser-studio-review", "format_version": 1,
            "audio": {"sha256": None, "name": "session.wav"},
            "model": {"id": "m", "version": "1"}, "created": "2026-11-20T10:00:00+00:00",
            "updated": "2026-11-20T10:05:00+00:00",
            "clinician": [{"start": 1.0, "end": 4.0, "label": "sad"}, {"start": 6.2, "end": 6.8, "label": "angry"}]}
#: A review as format 2 wrote it (who speaks), with a key a later version of format 2 might add.
FORMAT_2 = {"format": "ser-studio-review", "format_version": 2,
            "audio": {"sha256": None, "name": "session.wav"},
            "model": {"id": "m", "version": "1"}, "created": "2026-11-21T09:00:00+00:00",
            "updated": "2026-11-21T09:30:00+00:00",
            "clinician": [{"start": 4.0, "end": 6.0, "label": "calm"}],
            "speakers": {"count": 2, "names": {"S1": "Clinician", "S2": "Patient"}, "patient": "S2",
                         "moves": [{"start": 6.0, "end": 7.0, "speaker": "S2"}], "merges": {"S3": "S2"}},
            "site": {"ward": "B"}}


def _write_old(audio, old):
    d = json.loads(json.dumps(old))
    d["audio"]["sha256"] = file_sha256(audio)
    target = review_path(d["audio"]["sha256"])
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(d, indent=1)
    target.write_text(text)
    return d, target, text


@pytest.mark.parametrize("old", [FORMAT_1, FORMAT_2], ids=["format-1", "format-2"])
def test_older_formats_load_and_are_saved_as_format_3_intact(audio, old):
    d, target, text = _write_old(audio, old)
    r = load_review(audio)
    assert r.loaded_format == d["format_version"] and r.model_id == "m"
    assert [iv.to_dict() for iv in r.intervals] == d["clinician"]
    assert (r.note, r.segment_notes, r.reviewed, r.reviewed_at) == ("", [], False, None)
    save_review(r)  # re-saved untouched
    again = json.loads(target.read_text())
    assert again["format_version"] == FORMAT_VERSION == 3
    for key, value in d.items():  # everything the old file held, as it was (the dates but "updated")
        if key not in ("format_version", "updated", "speakers"):
            assert again[key] == value, key
    if "speakers" in d:
        assert again["speakers"] == d["speakers"]
    else:
        assert again["speakers"] == {"count": None, "names": {}, "patient": None, "moves": [], "merges": {}}
    assert again["notes"] == {"recording": "", "segments": []} and again["reviewed"] is False
    # the file the older SER Studio wrote is kept beside it, once, byte for byte
    kept = older_copy(target, d["format_version"])
    assert kept.read_text() == text
    r2 = load_review(audio)
    assert r2.loaded_format == 3
    r2.set_note("second visit")
    save_review(r2)
    assert kept.read_text() == text and json.loads(target.read_text())["notes"]["recording"] == "second visit"


def test_a_format_2_review_keeps_who_speaks_through_an_edit_in_format_3(audio):
    d, target, _ = _write_old(audio, FORMAT_2)
    r = load_review(audio)
    assert (r.speaker_count, r.patient, r.speaker_names, r.speaker_merges) == (2, 1, {0: "Clinician", 1: "Patient"},
                                                                              {2: 1})
    r.set_label(1.0, 4.0, "sad")
    r.set_segment_note(1.0, 4.0, "cries here")
    r.set_reviewed(True, when="2026-11-22T08:00:00+00:00")
    save_review(r)
    again = json.loads(target.read_text())
    assert again["speakers"] == d["speakers"] and again["site"] == {"ward": "B"}
    assert again["clinician"] == [{"start": 1.0, "end": 4.0, "label": "sad"},
                                  {"start": 4.0, "end": 6.0, "label": "calm"}]
    assert again["notes"]["segments"] == [{"start": 1.0, "end": 4.0, "text": "cries here"}]
    assert (again["reviewed"], again["reviewed_at"]) == (True, "2026-11-22T08:00:00+00:00")


def test_notes_and_the_reviewed_state_survive_a_restart(audio):
    r = load_review(audio)
    r.set_note("  Second visit; the patient was tired.\nAsked about sleep.  ")
    r.set_segment_note(4.0, 6.0, "raised voice: about the neighbours")
    r.set_segment_note(1.0, 4.0, "long pause before answering")
    r.set_segment_note(1.0, 4.0, "long pause before answering (twice)")  # the same bounds: replaced
    r.set_reviewed(True)
    save_review(r)
    again = load_review(audio)
    assert again.note == "Second visit; the patient was tired.\nAsked about sleep."
    assert [(n.start, n.end, n.text) for n in again.segment_notes] == [
        (1.0, 4.0, "long pause before answering (twice)"), (4.0, 6.0, "raised voice: about the neighbours")]
    assert again.note_for(4.0, 6.0).startswith("raised") and again.note_for(0.0, 1.0) == ""
    assert again.reviewed and again.reviewed_at and again.has_corrections()
    again.set_segment_note(4.0, 6.0, "   ")  # empty: removed
    again.set_reviewed(False)
    assert [n.start for n in again.segment_notes] == [1.0] and (again.reviewed, again.reviewed_at) == (False, None)
    assert not Review("x").has_corrections()


def test_split_merge_and_move_boundaries_of_the_clinician_tier():
    r = Review("abc")
    r.set_label(1.0, 4.0, "sad")
    r.set_label(4.0, 6.0, "angry")
    r.set_segment_note(1.0, 4.0, "note on the sad stretch")
    first, second = r.split(2.5)
    assert [(i.start, i.end, i.label) for i in r.intervals] == [(1.0, 2.5, "sad"), (2.5, 4.0, "sad"),
                                                                 (4.0, 6.0, "angry")]
    assert r.note_for(1.0, 2.5) == "note on the sad stretch"
    r.set_label(2.5, 4.0, "calm")
    assert r.boundaries() == [1.0, 2.5, 4.0, 6.0]
    # a shared boundary moves for both intervals, never past a neighbour's edge
    assert r.move_boundary(4.0, 5.0) == 5.0
    assert [(i.start, i.end) for i in r.intervals] == [(1.0, 2.5), (2.5, 5.0), (5.0, 6.0)]
    assert r.move_boundary(5.0, 9.0) == pytest.approx(6.0 - 0.02)
    assert r.move_boundary(1.0, -3.0) == 0.0  # an outer edge: as far as the recording's start
    assert r.move_boundary(6.0, 8.0) == 8.0
    r.set_label(9.0, 10.0, "happy")
    assert r.move_boundary(8.0, 12.0) == 9.0  # not over the next label
    assert r.note_for(0.0, 2.5) == "note on the sad stretch"  # the note followed its interval
    merged = r.merge_next(0.5)
    assert (merged.start, merged.end, merged.label) == (0.0, 5.98, "sad")
    assert r.note_for(0.0, 5.98) == "note on the sad stretch"
    assert r.merge_next(7.0).end == 10.0  # across the gap to the happy label
    assert [(i.start, i.end, i.label) for i in r.intervals] == [(0.0, 5.98, "sad"), (5.98, 10.0, "angry")]
    with pytest.raises(ValueError, match="no label of yours"):
        r.split(11.0)
    with pytest.raises(ValueError, match="edge"):
        r.split(5.99)
    with pytest.raises(ValueError, match="nothing after|no label after"):
        r.merge_next(7.0)
    with pytest.raises(ValueError, match="no boundary"):
        r.move_boundary(3.3, 3.0)
    assert isinstance(r.segment_notes[0], Note)


@pytest.mark.parametrize("change", [{"notes": "text"}, {"notes": {"recording": 3}},
                                    {"notes": {"segments": [{"start": 2, "end": 1, "text": "x"}]}},
                                    {"notes": {"segments": [{"start": 1, "end": 2}]}},
                                    {"reviewed": "yes"}, {"reviewed_at": "yesterday"}, {"format_version": "3"},
                                    {"format_version": 0}])
def test_damaged_notes_or_reviewed_state_are_refused_with_the_file_named(audio, change):
    sha = file_sha256(audio)
    target = review_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    d = {"format": "ser-studio-review", "format_version": 3, "audio": {"sha256": sha}, "clinician": [],
         "notes": {"recording": "", "segments": []}, "reviewed": False, "reviewed_at": None}
    d.update(change)
    target.write_text(json.dumps(d))
    with pytest.raises(ReviewError, match="not a readable review") as err:
        load_review(audio)
    assert str(target) in str(err.value)


def test_speaker_corrections_survive_a_restart(audio):
    segs = _two_speakers()
    r = load_review(audio)
    r.speaker_count = 3
    r.rename_speaker(1, "  Patient ")
    r.rename_speaker(0, "Clinician")
    r.set_patient(1)
    r.move_segment(6.0, 7.0, 1, found=2)  # S3's segment is the patient's
    r.merge_speakers(2, 1)  # and S3 is the patient altogether
    save_review(r)
    again = load_review(audio)
    assert again.speaker_count == 3 and again.patient == 1
    assert [again.speaker_of(s) for s in segs] == [None, 0, None, 1, 1, 0]
    assert again.speakers_in(segs) == [1, 0]  # the patient first
    assert [again.speaker_label(k) for k in (0, 1, 2)] == ["Clinician", "Patient", "S3"]
    assert again.has_speaker_corrections()
    again.rename_speaker(0, "")
    assert again.speaker_label(0) == "S1"
    again.rename_speaker(2, "S3")  # its own number is no name
    assert 2 not in again.speaker_names and not again.speaker_names.get(0)
    again.speaker_count = ESTIMATE
    save_review(again)
    assert load_review(audio).speaker_count == ESTIMATE


def test_moving_back_merging_and_the_patient():
    segs = _two_speakers()
    r = Review("abc")
    r.move_segment(7.0, 8.0, 1, found=0)
    assert r.speaker_of(segs[5]) == 1 and r.speakers_in(segs) == [0, 1, 2]
    r.move_segment(7.0, 8.0, 0, found=0)  # back where the analysis put it: no move left
    assert r.speaker_moves == [] and not r.has_speaker_corrections()
    r.set_patient(2)
    r.merge_speakers(2, 0)  # the patient's speaker merged: the patient is who they joined
    assert r.patient == 0 and r.speakers_in(segs) == [0, 1]
    with pytest.raises(ValueError, match="themself"):
        r.merge_speakers(2, 0)  # S3 is S1 now
    assert [s.end for s in r.segments_of(segs, 0)] == [3.0, 7.0, 8.0]


def test_one_speakers_corrected_summary_counts_only_their_segments():
    segs = _two_speakers()
    r = Review("abc")
    r.set_label(4.0, 6.0, "sad")  # S2's segment, corrected
    r.set_label(6.2, 6.8, "happy")  # inside S3's segment: not S1's, not S2's
    s1 = r.summary(r.segments_of(segs, 0), ["calm", "sad", "angry", "happy"], only_segments=True)
    assert s1.speech_seconds == pytest.approx(3.0) and s1.seconds["happy"] == 0.0
    assert s1.shares["calm"] == pytest.approx(0.6)
    s2 = r.summary(r.segments_of(segs, 1), ["calm", "sad", "angry", "happy"], only_segments=True)
    assert s2.seconds == pytest.approx({"calm": 0.0, "sad": 2.0, "angry": 0.0, "happy": 0.0})


@pytest.mark.parametrize("speakers", [{"count": 0}, {"count": "many"}, {"names": {"X1": "a"}},
                                      {"moves": [{"start": 1, "end": 2, "speaker": "S0"}]}, {"patient": 3}])
def test_damaged_speaker_corrections_are_refused_with_the_file_named(audio, speakers):
    sha = file_sha256(audio)
    target = review_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"format": "ser-studio-review", "format_version": 2, "audio": {"sha256": sha},
                                  "clinician": [], "speakers": speakers}))
    with pytest.raises(ReviewError, match="not a readable review") as err:
        load_review(audio)
    assert str(target) in str(err.value)
