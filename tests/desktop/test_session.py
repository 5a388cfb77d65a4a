"""The Analyse tab's session model, driven without a window (no Qt): queueing, jobs, results,
selection, the clinician tier and the model in use."""

import pytest

from desktop.session import ANALYSING, CANCELLED, DONE, ERROR, QUEUED, ModelInfo, Session
from ser_engine import results
from ser_engine.results import NO_SPEECH, Failure, Segment, Timeline

LABELS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
GLOBAL = getattr(results, "GLOBAL", "global")  # the engine's normalisation record, or its older string


def info(model_id="m1", **kw):
    return ModelInfo(model_id=model_id, version="1", labels=LABELS, card=f"# {model_id}", **kw)


def timeline(path, duration=3.0, label="sad", model_id="m1"):
    probs = {k: (0.65 if k == label else 0.05) for k in LABELS}
    segs = [Segment(0.0, 0.5, NO_SPEECH, None, {}), Segment(0.5, duration - 0.5, label, 0.65, dict(probs)),
            Segment(duration - 0.5, duration, NO_SPEECH, None, {})]
    return Timeline(path=path, duration=duration, segments=segs, labels=LABELS, model_id=model_id, model_version="1",
                    normalisation=GLOBAL, label=label, confidence=0.65, probabilities=probs,
                    sha256=f"{abs(hash(path)):064d}"[:64])


class Recorder:
    """Every event of a session, in order: ``(name, args)``."""

    def __init__(self, session):
        self.seen = []
        for name in session.events.names():
            getattr(session.events, name).connect(lambda *args, name=name: self.seen.append((name, args)))

    def of(self, name):
        return [args for n, args in self.seen if n == name]


def jobs(rec):
    """``[(paths, speaker_baseline), ...]`` of the jobs the session started."""
    return [(job.paths, job.speaker_baseline) for (job,) in rec.of("job")]


@pytest.fixture
def session():
    return Session(default_labels=LABELS)


def run_jobs(session, rec, answer):
    """Play the analysis worker: answer every job the session starts with ``answer(path)``."""
    done = 0
    while done < len(rec.of("job")):
        (job,) = rec.of("job")[done]
        paths = job.paths
        done += 1
        for p in paths:
            session.result_arrived(answer(p))
        session.job_finished(paths)


def test_files_wait_for_the_model_then_are_analysed_one_by_one(session):
    rec = Recorder(session)
    new = session.add(["/a/1.wav", "/a/2.wav", "/a/1.wav"])
    assert new == ["/a/1.wav", "/a/2.wav"] and rec.of("job") == [] and not session.is_idle()
    assert session.selected == "/a/1.wav"  # the first file is shown at once
    session.set_model_ready(info())
    assert jobs(rec) == [(["/a/1.wav"], False)]
    assert session.entry("/a/1.wav").status == ANALYSING and session.entry("/a/2.wav").status == QUEUED
    run_jobs(session, rec, timeline)
    assert [session.entry(p).status for p in session.paths()] == [DONE, DONE]
    assert rec.of("idle") == [()] and session.is_idle()
    assert session.counts_text() == "2 files · 2 done"


def test_a_failure_is_an_error_row_with_its_reason(session):
    rec = Recorder(session)
    session.set_model_ready(info())
    session.add(["/a/bad.wav"])
    run_jobs(session, rec, lambda p: Failure(p, "not a readable audio file"))
    e = session.entry("/a/bad.wav")
    assert (e.status, e.error, e.result) == (ERROR, "not a readable audio file", None)


def test_reopening_a_cancelled_folder_resumes_it(session):
    # Before: re-opening the folder was ignored as duplicates and its rows stayed "cancelled".
    rec = Recorder(session)
    session.set_model_ready(info())
    paths = [f"/visit/{i}.wav" for i in range(5)]
    session.add(paths)
    session.cancel()
    assert rec.of("stop") == [()]
    session.job_finished(rec.of("job")[0][0].paths)  # the worker stopped before answering
    assert {session.entry(p).status for p in paths} == {CANCELLED}
    assert session.add(paths) == []  # nothing new ...
    run_jobs(session, rec, timeline)  # ... but all of them analysed
    assert {session.entry(p).status for p in paths} == {DONE}


def test_analyse_again_relabels_finished_and_cancelled_files(session):
    rec = Recorder(session)
    session.set_model_ready(info("m1"))
    session.add(["/a/1.wav", "/a/2.wav"])
    run_jobs(session, rec, timeline)
    session.set_model_loading()
    session.set_model_ready(info("m2"))
    assert session.labelled_by_other_models() == ["/a/1.wav", "/a/2.wav"]
    assert "2 files labelled by another model" in rec.of("message")[-1][0]
    assert session.reanalyse() == 2
    run_jobs(session, rec, lambda p: timeline(p, model_id="m2"))
    assert session.labelled_by_other_models() == []


def test_selection_drops_the_previous_files_segment_and_clinician_tier(session, tmp_path):
    rec = Recorder(session)
    session.set_model_ready(info())
    session.add(["/a/1.wav", "/a/bad.wav"])
    run_jobs(session, rec, lambda p: Failure(p, "gone") if "bad" in p else timeline(p))
    assert session.select_segment(1) and session.selected_segment().label == "sad"
    assert session.set_clinician_label(LABELS.index("angry") + 1)
    assert session.clinician_intervals() == [(0.5, 2.5, "angry")] and rec.of("review") == [("/a/1.wav",)]
    session.select("/a/bad.wav")
    assert session.segment == -1 and session.selected_segment() is None
    assert session.clinician_intervals() == [] and session.selected_result() is None
    assert session.selected_duration() == 0.0
    assert not session.set_clinician_label(1)  # nothing to correct on an error row
    assert "once the analysis of this file is finished" in rec.of("message")[-1][0]


def test_segments_fill_in_block_by_block(session):
    rec = Recorder(session)
    session.set_model_ready(info())
    session.add(["/a/long.wav"])
    full = timeline("/a/long.wav", duration=40.0)
    session.block_arrived("/a/long.wav", 0.4, full.segments[:1])
    assert session.segments_of("/a/long.wav") == full.segments[:1]
    assert session.batch_progress().text == "long.wav: 40%"
    session.block_arrived("/a/long.wav", 0.9, full.segments[1:2])
    assert session.segments_of("/a/long.wav") == full.segments[:2]
    session.result_arrived(full)
    session.job_finished(["/a/long.wav"])
    assert session.segments_of("/a/long.wav") == full.segments and session.batch_progress() is None
    assert rec.of("idle")


def test_a_segment_selected_while_streaming_stays_where_it_was_when_the_final_segments_differ(session):
    # a session that gets its own emotion mix is merged again: the final segments are not the streamed ones
    session.set_model_ready(info())
    session.add(["/a/long.wav"])
    session.select("/a/long.wav")
    probs = {k: 0.125 for k in LABELS}
    streamed = [Segment(0.0, 1.0, NO_SPEECH, None, {}), Segment(1.0, 4.0, "calm", 0.4, probs),
                Segment(4.0, 6.0, "sad", 0.4, probs), Segment(6.0, 9.0, "calm", 0.4, probs)]
    session.block_arrived("/a/long.wav", 0.9, streamed)
    assert session.select_segment(3)  # calm, 6-9 s
    final = timeline("/a/long.wav", duration=10.0)
    final.segments = [Segment(0.0, 1.0, NO_SPEECH, None, {}), Segment(1.0, 9.0, "sad", 0.7, probs),
                      Segment(9.0, 10.0, NO_SPEECH, None, {})]
    session.result_arrived(final)
    assert session.segment == 1 and session.selected_segment().start == 1.0  # the one covering 7.5 s


def test_a_model_that_fails_settles_the_queue(session):
    rec = Recorder(session)
    session.add(["/a/1.wav"])
    session.set_model_failed("the shipped model is damaged")
    assert rec.of("idle") and rec.of("job") == [] and session.entry("/a/1.wav").status == QUEUED
    assert session.model_error == "the shipped model is damaged"


def test_speaker_baseline_groups_a_folder_and_restoring_it_reanalyses_nothing(session):
    rec = Recorder(session)
    session.set_model_ready(info())
    session.add(["/s1/a.wav", "/s1/b.wav", "/s2/c.wav"])
    run_jobs(session, rec, timeline)
    session.set_speaker_baseline(True, reanalyse=False)
    assert len(rec.of("job")) == 3 and rec.of("baseline") == [(True,)]
    session.reanalyse()
    assert jobs(rec)[-1] == (["/s1/a.wav", "/s1/b.wav"], True)  # the folder is one speaker
