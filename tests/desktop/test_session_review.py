"""The reviewer's tools on the session model, driven without a window: labels of segments and of
free stretches, split, merge and boundaries of the clinician's labels, notes, the reviewed
state, imported annotations, undo and redo of every one of them, the queue's marks and filters,
the next uncertain segment and removing a recording from the queue."""

import json

import pytest

from desktop.queue_view import SHOW_CORRECTED, SHOW_NOT_REVIEWED, SHOW_REVIEWED, SHOW_UNCERTAIN, QueueView
from desktop.session import ANALYSING, DONE, QUEUED
from ser_engine.annotations import import_tier
from ser_engine.results import NO_SPEECH, Segment, Timeline
from ser_engine.review import review_path
from tests.desktop.test_session_speakers import LABELS, clip, probs, ready_session, two_speakers


def session_of(path, *, uncertain=(2, 5)):
    """A 20 s recording: speech segments 1–5 (2 and 5 uncertain) between pauses."""
    segs = [Segment(0.0, 1.0, NO_SPEECH, None, {})]
    for i, label in enumerate(("calm", "sad", "sad", "angry", "happy"), 1):
        p = 0.3 if i in uncertain else 0.8
        segs.append(Segment(i * 3.0 - 2.0, i * 3.0 + 1.0, label, p, probs(label, p), i in uncertain))
    segs.append(Segment(16.0, 20.0, NO_SPEECH, None, {}))
    return Timeline(path=path, duration=20.0, segments=segs, labels=LABELS, model_id="m1", model_version="1",
                    normalisation=clip(path).normalisation, label="sad", confidence=0.5,
                    probabilities=probs("sad", 0.5), sha256=f"{abs(hash(path)):064d}"[:64])


@pytest.fixture
def ready():
    s, rec, run = ready_session(lambda p, job: session_of(p) if "session" in p else clip(p))
    s.add(["/v/session.wav", "/v/a.wav", "/v/b.wav"])
    run()
    s.select("/v/session.wav")
    return s, rec, run


def tier(s):
    return [(round(a, 3), round(b, 3), lab) for a, b, lab in s.clinician_intervals()]


def saved(s, path="/v/session.wav"):
    return json.loads(review_path(s.entry(path).result.sha256).read_text())


def test_a_free_stretch_is_labelled_and_one_target_at_a_time(ready):
    s, rec, _ = ready
    s.select_segment(2)
    s.set_stretch(4.5, 8.3)  # a drag in the clinician tier
    assert s.segment == -1 and s.target() == (4.5, 8.3, "stretch")  # the segment's selection dropped
    assert s.set_clinician_label(4)  # sad
    assert tier(s) == [(4.5, 8.3, "sad")] and saved(s)["clinician"] == [{"start": 4.5, "end": 8.3, "label": "sad"}]
    assert rec.last_message() == "Your label for 0:04.5–0:08.3 set to sad (saved; Ctrl+Z undoes it)"
    s.select_segment(4)  # a segment chosen: the stretch goes, the keys act on the segment
    assert s.stretch is None and s.target()[2] == "segment"
    assert s.set_clinician_label(5)
    assert tier(s) == [(4.5, 8.3, "sad"), (10.0, 13.0, "angry")]
    assert s.mark_clinician_label(6.0)  # a click on the clinician's label: its stretch is the target
    assert s.target() == (4.5, 8.3, "stretch")
    assert s.set_clinician_label(0)  # cleared
    assert tier(s) == [(10.0, 13.0, "angry")]


def test_split_merge_and_a_boundary_moved_are_saved_and_undone_and_redone(ready):
    s, rec, _ = ready
    s.set_stretch(2.0, 10.0)
    s.set_clinician_label(2)  # calm
    assert s.split_label(6.0)
    assert tier(s) == [(2.0, 6.0, "calm"), (6.0, 10.0, "calm")]
    s.set_stretch(6.0, 10.0)
    s.set_clinician_label(7)  # disgust
    assert s.move_boundary(6.0, 7.5)
    assert tier(s) == [(2.0, 7.5, "calm"), (7.5, 10.0, "disgust")] and s.stretch == (7.5, 10.0)
    assert "from 0:06.0 to 0:07.5" in rec.last_message()
    assert not s.move_boundary(4.0, 5.0)  # no boundary there
    assert "no boundary" in rec.last_message()
    assert s.merge_label(3.0)
    assert tier(s) == [(2.0, 10.0, "calm")]
    assert not s.split_label(15.0) and "no label of yours" in rec.last_message()
    assert not s.merge_label(3.0) and "no label after" in rec.last_message()
    # every step comes back, one at a time, and goes again
    expected = [[(2.0, 7.5, "calm"), (7.5, 10.0, "disgust")], [(2.0, 6.0, "calm"), (6.0, 10.0, "disgust")],
                [(2.0, 6.0, "calm"), (6.0, 10.0, "calm")], [(2.0, 10.0, "calm")], []]
    for state in expected:
        assert s.undo()
        assert tier(s) == state and [(i["start"], i["end"], i["label"]) for i in saved(s)["clinician"]] == state
    assert not s.undo() and rec.last_message() == "Nothing to undo"
    redone = [[(2.0, 10.0, "calm")], [(2.0, 6.0, "calm"), (6.0, 10.0, "calm")],
              [(2.0, 6.0, "calm"), (6.0, 10.0, "disgust")], [(2.0, 7.5, "calm"), (7.5, 10.0, "disgust")],
              [(2.0, 10.0, "calm")]]
    for state in redone:
        assert s.redo()
        assert tier(s) == state
    assert not s.redo() and rec.last_message() == "Nothing to redo"
    s.undo()
    s.select_segment(1)
    s.set_clinician_label(3)  # a new edit: nothing left to redo
    assert not s.redo()


def test_notes_and_the_reviewed_state_are_saved_shown_in_the_queue_and_undone(ready):
    s, rec, _ = ready
    e = s.entry("/v/session.wav")
    assert e.mark is not None and e.mark.text() == ""
    s.select_segment(3)
    assert s.set_target_note("Long pause before answering.")
    assert s.target_note() == "Long pause before answering."
    assert s.set_recording_note("Second visit; tired.")
    assert s.recording_note() == "Second visit; tired."
    assert s.set_reviewed(True) and s.is_reviewed()
    d = saved(s)
    assert d["notes"] == {"recording": "Second visit; tired.",
                          "segments": [{"start": 7.0, "end": 10.0, "text": "Long pause before answering."}]}
    assert d["reviewed"] is True and d["reviewed_at"]
    assert e.mark.text() == "✓ reviewed · note"
    assert s.undo() and not s.is_reviewed() and not saved(s)["reviewed"]
    assert rec.last_message() == "Undone: marking it reviewed"
    assert s.undo() and s.recording_note() == ""
    assert s.redo() and s.recording_note() == "Second visit; tired."
    assert s.toggle_reviewed() and s.is_reviewed()
    assert s.set_target_note("") and s.target_note() == ""  # an empty note removes it
    s.select_segment(-1)
    assert not s.set_target_note("x") and "Shift+N" in rec.last_message()
    # the queue's review events carry the path, so its row can redraw
    assert ("/v/session.wav",) in rec.of("review")


def test_every_edit_waits_for_the_analysis(ready):
    s, rec, _ = ready
    s.add(["/v/new.wav"])  # queued, analysed next
    s.select("/v/new.wav")
    for edit in (lambda: s.set_clinician_label(1), lambda: s.split_label(1.0), lambda: s.merge_label(1.0),
                 lambda: s.move_boundary(1.0, 2.0), lambda: s.set_recording_note("x"), lambda: s.set_reviewed(True)):
        assert not edit()
        assert "once the analysis of this file is finished" in rec.last_message()


def test_imported_annotations_become_the_clinician_tier_in_one_undo_step(ready, tmp_path):
    s, rec, _ = ready
    s.select_segment(1)
    s.set_clinician_label(1)
    labels = tmp_path / "labels.txt"
    labels.write_text("1.0\t4.0\tAnger\n5.0\t9.5\tsad\n12.0\t13.0\tsighs\n", encoding="utf-8")
    imported = import_tier(labels, labels=LABELS, duration=20.0)
    assert s.import_annotations(imported, replace=True)
    assert tier(s) == [(1.0, 4.0, "angry"), (5.0, 9.5, "sad"), (12.0, 13.0, "sighs")]
    assert "renamed Anger -> angry" in rec.last_message() and "sighs" in rec.last_message()
    assert s.entry("/v/session.wav").mark.corrections == 3
    assert s.undo() and tier(s) == [(1.0, 4.0, "neutral")]
    assert s.import_annotations(imported, replace=False)  # laid over: the old label where none is imported
    assert tier(s) == [(1.0, 4.0, "angry"), (5.0, 9.5, "sad"), (12.0, 13.0, "sighs")]


def test_next_and_previous_uncertain_segment(ready):
    s, rec, _ = ready
    assert s.step_uncertain(1, from_time=0.0) and s.segment == 2
    assert s.step_uncertain(1) and s.segment == 5
    assert not s.step_uncertain(1) and "No uncertain segment after this one (2 uncertain segments" in rec.last_message()
    assert s.step_uncertain(-1) and s.segment == 2
    s.select_segment(-1)
    assert s.step_uncertain(-1, from_time=15.0) and s.segment == 5
    s.select("/v/a.wav")  # a clip whose one speech segment is uncertain (35%)
    assert s.step_uncertain(1) and s.segment == 1
    s2, rec2, run2 = ready_session(lambda p, job: session_of(p, uncertain=()))
    s2.add(["/v/session.wav"])
    run2()
    assert not s2.step_uncertain(1) and rec2.last_message() == "No uncertain segment in this recording"


def test_the_queue_view_filters_by_uncertain_reviewed_corrected_label_and_confidence(ready):
    s, rec, _ = ready
    s.add(["/v/c.wav"])  # queued: no result yet
    paths = ["/v/session.wav", "/v/a.wav", "/v/b.wav", "/v/c.wav"]
    s.select("/v/b.wav")
    s.set_reviewed(True)
    s.select("/v/session.wav")
    s.select_segment(1)
    s.set_clinician_label(4)

    def shown(**kw):
        s.set_queue_view(QueueView(**kw))
        return [p for p in paths if s.shown(p)]

    assert shown() == paths
    assert shown(show=SHOW_UNCERTAIN) == ["/v/a.wav", "/v/b.wav"]  # the clips' answer is 35%: uncertain
    assert shown(show=SHOW_NOT_REVIEWED) == ["/v/session.wav", "/v/a.wav"]  # c has no result to review
    assert shown(show=SHOW_REVIEWED) == ["/v/b.wav"]
    assert shown(show=SHOW_CORRECTED) == ["/v/session.wav"]
    assert shown(label="angry") == ["/v/a.wav", "/v/b.wav"]
    assert shown(below=0.4) == ["/v/a.wav", "/v/b.wav"] and shown(below=0.6) == ["/v/session.wav", "/v/a.wav",
                                                                                "/v/b.wav"]
    assert shown(show=SHOW_NOT_REVIEWED, label="angry") == ["/v/a.wav"]
    assert QueueView(show=SHOW_UNCERTAIN, label="sad", below=0.5).describe() == "uncertain · sad · below 50%"
    assert rec.of("queue_view")
    with pytest.raises(ValueError):
        QueueView(show="everything")


def test_removing_a_recording_moves_the_selection_and_keeps_its_review(ready):
    s, rec, _ = ready
    s.select_segment(1)
    s.set_clinician_label(4)
    sha = s.entry("/v/session.wav").result.sha256
    assert s.remove("/v/session.wav")
    assert s.paths() == ["/v/a.wav", "/v/b.wav"] and s.selected == "/v/a.wav"
    assert rec.of("removed") == [("/v/session.wav",)] and review_path(sha).exists()
    assert s.remove("/v/b.wav") and s.selected == "/v/a.wav"
    assert s.remove("/v/a.wav", then_select="/v/gone.wav") and s.selected == "" and len(s) == 0
    assert not s.remove("/v/a.wav")


def test_removing_the_file_being_analysed_stops_its_job_and_the_others_go_on():
    s, rec, _ = ready_session(lambda p, job: clip(p))
    s.set_speaker_baseline(True, reanalyse=False)
    s.add(["/f/1.wav", "/f/2.wav", "/f/3.wav"])  # one folder: one speaker-group job
    (job,) = rec.jobs()
    assert job.paths == ["/f/1.wav", "/f/2.wav", "/f/3.wav"] and job.speaker_baseline
    assert s.remove("/f/2.wav")
    assert rec.of("stop") == [()]
    s.job_finished(job.paths)  # the worker stopped without answering
    assert [s.entry(p).status for p in s.paths()] in ([QUEUED, QUEUED], [ANALYSING, ANALYSING])
    again = rec.jobs()[-1]
    assert again.paths == ["/f/1.wav", "/f/3.wav"]
    for p in again.paths:
        s.result_arrived(clip(p))
    s.job_finished(again.paths)
    assert [s.entry(p).status for p in s.paths()] == [DONE, DONE] and s.is_idle()


def test_speaker_corrections_are_undone_and_redone_like_labels():
    s, rec, run = ready_session(lambda p, job: two_speakers(p))
    s.add(["/v/two.wav"])
    run()
    s.select_segment(3)
    assert s.move_segment_speaker() and s.reviews.speaker_of(s.selected_result(), s.selected_segment()) == 0
    assert s.undo() and s.reviews.speaker_of(s.selected_result(), s.selected_segment()) == 1
    assert s.redo() and s.reviews.speaker_of(s.selected_result(), s.selected_segment()) == 0
    assert s.entry("/v/two.wav").mark.corrections == 1
