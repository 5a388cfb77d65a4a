"""The session model's speakers, neutral references and undo, and what the panel reads from it
(desktop.readout), driven without a window: one answer on every part of the panel, why a label
is uncertain, the normalisation and from what, each speaker's own answer with the patient first."""

import dataclasses
import json

import pytest
from PySide6.QtCore import Qt

from desktop import readout
from desktop.headline import Headline
from desktop.session import DONE, ESTIMATE, QUEUED, ModelInfo, Reference, Session
from ser_engine.results import GLOBAL, NO_SPEECH, Normalisation, Segment, SpeakerResult, Timeline
from ser_engine.review import review_path
from ser_engine.summary import summarise
from ser_engine.vad import too_noisy
from tests.desktop.test_session import Recorder as SessionRecorder

LABELS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def probs(label, p):
    rest = (1.0 - p) / (len(LABELS) - 1)
    return {k: (p if k == label else rest) for k in LABELS}


def answer(segments, speaker=None):
    """The time-weighted profile of speech segments (the engine's answer, as its segments give it)."""
    s = summarise([x for x in segments if speaker is None or x.speaker == speaker], LABELS)
    label = max(s.shares, key=s.shares.get)
    return label, s.shares[label], dict(s.shares)


def two_speakers(path, *, snr=30.0):
    """A 40 s session: S1 (the clinician) calm, S2 (the patient) sad, then angry."""
    segs = [Segment(0.0, 1.0, NO_SPEECH, None, {}),
            Segment(1.0, 6.0, "calm", 0.7, probs("calm", 0.7), speaker=0, snr_db=snr),
            Segment(6.0, 7.0, NO_SPEECH, None, {}),
            Segment(7.0, 19.0, "sad", 0.6, probs("sad", 0.6), speaker=1, snr_db=snr),
            Segment(19.0, 24.0, "calm", 0.8, probs("calm", 0.8), speaker=0, snr_db=snr),
            Segment(24.0, 30.0, "angry", 0.5, probs("angry", 0.5), speaker=1, snr_db=snr),
            Segment(30.0, 40.0, NO_SPEECH, None, {})]
    speakers = []
    for k in (0, 1):
        lab, share, shares = answer(segs, k)
        speakers.append(SpeakerResult(k, sum(s.duration for s in segs if s.speaker == k), 2, lab, share, shares,
                                      share < 0.4, Normalisation("speaker", f"S{k + 1}'s speech in this recording",
                                                                 10.0 + k, speaker=k)))
    lab, share, shares = answer(segs)
    return Timeline(path=path, duration=40.0, segments=segs, labels=LABELS, model_id="m1", model_version="1",
                    normalisation=Normalisation("speaker", "each speaker's own speech"), label=lab, confidence=share,
                    probabilities=shares, uncertain=snr < 15, sha256=f"{abs(hash(path)):064d}"[:64],
                    speakers=speakers, snr_db=snr)


def clip(path, label="angry", p=0.35, *, snr=40.0, normalisation=GLOBAL, band=-25.0):
    narrow = band < -58 and normalisation.mode == "global"  # as the engine marks them (ser_engine.channel)
    segs = [Segment(0.0, 0.5, NO_SPEECH, None, {}),
            Segment(0.5, 3.0, label, p, probs(label, p), p < 0.4 or narrow, snr_db=snr),
            Segment(3.0, 3.5, NO_SPEECH, None, {})]
    return Timeline(path=path, duration=3.5, segments=segs, labels=LABELS, model_id="m1", model_version="1",
                    normalisation=normalisation, label=label, confidence=p, probabilities=probs(label, p),
                    uncertain=p < 0.4 or too_noisy(snr) or narrow, sha256=f"{abs(hash(path)):064d}"[:64], snr_db=snr,
                    band_db=band)


class Recorder(SessionRecorder):
    """Every event of a session; its jobs and its last status-bar message."""

    def jobs(self):
        return [job for (job,) in self.of("job")]

    def last_message(self):
        return self.of("message")[-1][0]


def ready_session(answers):
    """A session with a model; ``answers(path, job)`` plays the worker."""
    s = Session(default_labels=LABELS)
    rec = Recorder(s)
    s.set_model_ready(ModelInfo("m1", "1", LABELS, uncertain_below=0.4))

    done = [0]  # jobs answered so far

    def run():
        while done[0] < len(rec.jobs()):
            job = rec.jobs()[done[0]]
            done[0] += 1
            for p in job.paths:
                s.count_used(p, job.speakers.get(p) or job.default_speakers)
                s.result_arrived(answers(p, job))
            s.job_finished(job.paths)
    return s, rec, run


def test_the_number_of_speakers_reanalyses_the_selected_recording_and_is_remembered():
    s, rec, run = ready_session(lambda p, job: two_speakers(p) if (job.speakers.get(p) or 1) != 1 else clip(p))
    s.add(["/v/session.wav"])
    run()
    assert rec.jobs()[0].speakers == {"/v/session.wav": None} and rec.jobs()[0].default_speakers == 1
    s.set_speakers(2)
    assert rec.jobs()[-1].paths == ["/v/session.wav"] and rec.jobs()[-1].speakers == {"/v/session.wav": 2}
    assert "again with 2 speakers" in rec.of("message")[-2][0]
    run()
    assert s.entry("/v/session.wav").speakers_used == 2 and s.speakers_of() == [0, 1]
    review = json.loads(review_path(s.selected_result().sha256).read_text())
    assert review["speakers"]["count"] == 2  # a later analysis of this recording asks for 2 again
    s.add(["/v/next.wav"])  # what is analysed next: 2 as well
    assert rec.jobs()[-1].default_speakers == 2 and s.speakers == 2
    with pytest.raises(ValueError):
        s.set_speakers(7)


def test_a_number_chosen_while_the_recording_is_analysed_applies_when_it_ends():
    s, rec, run = ready_session(lambda p, job: two_speakers(p) if (job.speakers.get(p) or 1) != 1 else clip(p))
    s.add(["/v/session.wav"])
    (job,) = rec.jobs()
    s.set_speakers(2)  # while it is analysed with 1
    assert "when this analysis ends" in rec.last_message()
    run()
    assert [j.speakers for j in rec.jobs()] == [{"/v/session.wav": None}, {"/v/session.wav": 2}]
    assert s.entry("/v/session.wav").speakers_used == 2 and s.speakers_of() == [0, 1]


def test_a_recording_opened_again_is_analysed_with_the_number_its_review_remembers():
    from ser_engine.review import Review, save_review

    first = two_speakers("/v/session.wav")
    remembered = Review(first.sha256, "session.wav", speaker_count=2)
    save_review(remembered)
    s, rec, run = ready_session(lambda p, job: two_speakers(p) if (job.speakers.get(p) or 1) != 1 else clip(p))
    s.add(["/v/session.wav", "/v/other.wav"])
    run()
    assert [j.speakers for j in rec.jobs()] == [{"/v/session.wav": None}, {"/v/session.wav": 2},
                                                {"/v/other.wav": None}]
    assert s.entry("/v/session.wav").speakers_used == 2 and s.speakers == 1  # the others keep the default
    assert s.entry("/v/other.wav").speakers_used == 1


def test_the_estimate_is_said_to_be_a_guess():
    s, rec, run = ready_session(lambda p, job: two_speakers(p))
    s.set_speakers(ESTIMATE, reanalyse=False)
    s.add(["/v/session.wav"])
    run()
    assert s.entry("/v/session.wav").speakers_used == ESTIMATE
    assert "estimated: a guess" in readout.speakers_line(s)
    s.set_speakers(2)
    run()
    assert readout.speakers_line(s) == "2 speakers, as you said"


def test_speaker_corrections_are_saved_and_undone_one_by_one():
    s, rec, run = ready_session(lambda p, job: two_speakers(p))
    s.set_speakers(2, reanalyse=False)
    s.add(["/v/session.wav"])
    run()
    result = s.selected_result()
    assert readout.scope_choices(s) == [(0, "S1"), (1, "S2"), (None, "All speakers")]
    # a name given again as it is (OK on the dialog as it opens) changes nothing: no undo step
    assert not s.rename_speaker(1, "S2") and rec.last_message() == "S2 keeps the name (nothing changed)"
    assert not s.reviews.can_undo()
    assert s.rename_speaker(1, "Patient") and s.rename_speaker(0, "Clinician")
    assert not s.rename_speaker(1, " Patient ") and "keeps the name" in rec.last_message()
    assert s.set_patient(1)
    assert s.scope == 1  # the patient's answer in the headline
    assert readout.scope_choices(s) == [(1, "Patient (S2)"), (0, "Clinician (S1)"), (None, "All speakers")]
    assert "Patient (S2) is the patient" in rec.last_message()
    s.select_segment(4)  # the clinician's second turn (19-24 s)
    assert readout.speaker_line(s).startswith("Spoken by Clinician (S1)")
    assert s.move_segment_speaker()  # S: the next speaker's
    assert s.reviews.speaker_of(result, result.segments[4]) == 1
    assert readout.speaker_line(s) == "Spoken by Patient (S2) (your correction) · S: the next speaker's"
    assert "is Patient's" in rec.last_message() and rec.of("review")[-1] == ("/v/session.wav",)
    assert s.merge_speakers(0, 1)
    assert s.speakers_of() == [1] and "1 after your corrections" in readout.speakers_line(s)
    saved = json.loads(review_path(result.sha256).read_text())["speakers"]
    assert saved["merges"] == {"S1": "S2"} and saved["patient"] == "S2"
    # undo, newest first
    assert s.undo() and "merging Clinician into Patient" in rec.last_message()
    assert s.speakers_of() == [1, 0]
    assert s.undo() and s.reviews.speaker_of(result, result.segments[4]) == 0
    assert s.undo() and s.reviews.patient(result) is None and s.scope is None
    assert s.undo() and s.undo() and s.speaker_label(1) == "S2" and s.speaker_label(0) == "S1"
    assert not s.undo() and rec.last_message() == "Nothing to undo"
    assert json.loads(review_path(result.sha256).read_text())["speakers"]["names"] == {}


def queued_two_speakers():
    """A session holding :func:`two_speakers` analysed with two speakers, its queue model and result."""
    from desktop.queue_model import QueueModel

    s, rec, run = ready_session(lambda p, job: two_speakers(p))
    s.set_speakers(2, reanalyse=False)
    model = QueueModel(s)
    s.add(["/v/session.wav"])
    run()
    return s, model, s.selected_result()


def test_the_queue_gives_the_patients_answer_once_the_patient_is_chosen(qapp):
    # Seen in a screenshot: the queue said the whole recording's answer while the headline, by
    # default, said the patient's (once "angry" beside "Happy").
    from desktop.queue_model import CONFIDENCE, LABEL
    from desktop.queue_view import QueueView

    s, model, result = queued_two_speakers()

    def queue():
        return tuple(model.index(0, col).data() for col in (LABEL, CONFIDENCE))

    whole, patient = answer(result.segments), answer(result.segments, speaker=1)
    assert whole[0] == "calm" and patient[0] == "sad"  # the clinician's calm outweighs the patient
    assert queue() == ("calm", f"{whole[1]:.0%} of speech")  # no patient chosen: everyone's answer
    assert s.set_patient(1)
    h = readout.headline_view(s)
    assert queue() == (h.label, f"{patient[1]:.0%} · patient") == ("sad", "42% · patient")
    assert h.value == "42% of their speech" and h.scope.startswith("S2")
    tip = model.index(0, LABEL).data(Qt.ItemDataRole.ToolTipRole)
    assert "sad: the patient's emotion with the most speech time (42% of the patient's speech)" in tip
    assert QueueView(label="sad").accepts(s.entry("/v/session.wav"))
    assert not QueueView(label="calm").accepts(s.entry("/v/session.wav"))
    assert s.merge_speakers(1, 0)  # one speaker left: everyone's answer, uncertain in words as on the panel
    assert queue()[0] == answer(result.segments)[0] + (" (uncertain)" if readout.headline_view(s).uncertain else "")
    assert s.undo() and queue()[0] == "sad"
    assert s.undo() and queue() == ("calm", f"{whole[1]:.0%} of speech")  # the patient's choice undone


def test_the_report_gives_the_patients_answer_and_speakers_as_the_window_does(qapp):
    # Seen in use: the session report led with the whole recording's answer and gave each
    # speaker the analysis's answer before the clinician's speaker corrections, while the queue
    # and the speaker summaries gave the patient's answer after them.
    from desktop.queue_model import CONFIDENCE, LABEL
    from ser_engine.report import report_content

    s, model, result = queued_two_speakers()
    s.rename_speaker(1, "Mrs A")
    assert s.set_patient(1)
    assert s.select_segment(4) and s.move_segment_speaker(1)  # the clinician's 19-24 s "calm" is the patient's

    def report():
        content = report_content(result, s.reviews.review(result), s.model)
        return dict(content.facts), content.speakers

    facts, speakers = report()
    label, share = (model.index(0, col).data() for col in (LABEL, CONFIDENCE))
    views = readout.speaker_views(s)
    assert views[0].uncertain  # 34% of the patient's speech, under the model's 40%
    assert (label, share) == (f"{views[0].label} (uncertain)", f"{views[0].share:.0%} · patient")
    label, share = views[0].label, share.removesuffix(" · patient")
    assert facts["Model's answer"] == f"{label}, {share} of the patient's speech time (uncertain) (Mrs A (S2))"
    assert facts["Whole recording"].startswith(f"{result.label}, {result.confidence:.0%} of the speech time")
    assert [line.split(";")[1].strip() for line in speakers] == [
        f"{v.label} {v.share:.0%} of their speech{' (uncertain)' if v.uncertain else ''}" for v in views]
    assert [v.turns for v in views] == [1, 1]  # 7-30 s is the patient's now: one turn
    assert speakers[0].startswith("Mrs A (S2) (patient): 0:23.0 of speech in 1 turn;")
    assert speakers[1].startswith("S1: 0:05.0 of speech in 1 turn;")
    # merged into the patient: one speaker's line says where the other went, the answer is everyone's
    assert s.merge_speakers(0, 1)
    facts, speakers = report()
    assert facts["Model's answer"].startswith(f"{model.index(0, LABEL).data().removesuffix(' (uncertain)')}, ")
    assert speakers[1] == "S1: merged by the clinician into Mrs A (S2)"
    # no patient chosen: the whole recording's answer alone, as the queue gives it
    assert s.undo() and s.undo() and s.undo()
    facts, _ = report()
    assert "Whole recording" not in facts and facts["Model's answer"].startswith(f"{result.label}, ")


def test_the_patient_is_marked_when_their_name_does_not_say_so():
    s, rec, run = ready_session(lambda p, job: two_speakers(p))
    s.set_speakers(2, reanalyse=False)
    s.add(["/v/session.wav"])
    run()
    s.rename_speaker(1, "Mrs A")
    s.set_patient(1)
    assert readout.scope_choices(s)[0] == (1, "Mrs A (S2) · patient")
    patient = readout.speaker_views(s)[0]
    assert patient.title().startswith("Mrs A (S2) · patient: sad 42% · ") and not patient.uncertain
    # an uncertain answer says so in words in the speaker's title, as in the report's line for them
    doubtful = dataclasses.replace(patient, uncertain=True)
    assert doubtful.title().startswith("Mrs A (S2) · patient: sad 42% (uncertain) · ")


def test_a_label_correction_is_undone_too():
    s, rec, run = ready_session(lambda p, job: clip(p))
    s.add(["/v/a.wav"])
    run()
    s.select_segment(1)
    assert s.set_clinician_label(LABELS.index("sad") + 1)
    assert s.clinician_intervals() == [(0.5, 3.0, "sad")]
    assert s.undo() and s.clinician_intervals() == []


def test_a_recording_of_one_speaker_says_how_to_find_who_speaks():
    s, rec, run = ready_session(lambda p, job: clip(p))
    s.add(["/v/a.wav"])
    run()
    s.select_segment(1)
    assert not s.move_segment_speaker()
    assert "analysed as one speaker" in rec.last_message() and "Speakers 2" in rec.last_message()
    assert readout.scope_choices(s) == [] and readout.speaker_views(s) == [] and readout.speakers_line(s) == ""


def test_a_neutral_reference_refused_changes_nothing_and_says_why():
    s, rec, run = ready_session(lambda p, job: clip(p))
    s.add(["/p/visit1/a.wav", "/p/visit1/b.wav", "/p/visit2/c.wav", "/other/d.wav"])
    run()
    s.select("/p/visit1/a.wav")
    assert not s.mark_reference(whole=False)  # no stretch, no segment
    assert "Shift+drag" in rec.last_message()
    s.set_stretch(2.5, 0.5)
    assert s.stretch == (0.5, 2.5)
    assert s.mark_reference(whole=False)
    (ref,) = rec.of("check_reference")[-1]
    assert ref == Reference("/p/visit1/a.wav", (0.5, 2.5), "/p/visit1")
    n_jobs = len(rec.jobs())
    reason = "reference a.wav (0.5–2.5 s): only 2.0 s of speech; a speaker baseline needs at least 10 s"
    assert not s.reference_checked(ref, reason)
    assert len(rec.jobs()) == n_jobs and {e.status for e in s.entries()} == {DONE}  # nothing analysed again
    assert s.reference_for("/p/visit1/a.wav") is None
    assert readout.normalisation_view(s).problem == f"Reference not used: {reason}"


def test_a_neutral_reference_used_reanalyses_the_recordings_under_its_folder():
    s, rec, run = ready_session(lambda p, job: clip(p))
    s.set_speaker_baseline(True, reanalyse=False)
    s.add(["/p/ref.wav", "/p/visit1/a.wav", "/p/visit1/b.wav", "/other/d.wav"])
    run()
    s.select("/p/ref.wav")
    assert s.mark_reference(whole=True)
    (ref,) = rec.of("check_reference")[-1]
    assert ref.span is None and ref.folder == "/p"
    n_jobs = len(rec.jobs())
    assert s.reference_checked(ref, "")
    again = rec.jobs()[n_jobs:]
    # one by one, each with the reference: never grouped into a folder baseline
    assert [j.paths for j in again][:1] == [["/p/ref.wav"]] and not again[0].speaker_baseline
    assert again[0].references == {"/p/ref.wav": ref}
    assert "analysing the 3 recordings under p again" in rec.of("message")[-2][0]
    run()
    assert [j.paths for j in rec.jobs()[n_jobs:]] == [["/p/ref.wav"], ["/p/visit1/a.wav"], ["/p/visit1/b.wav"]]
    assert s.entry("/other/d.wav").status == DONE and s.reference_for("/other/d.wav") is None
    s.select("/p/visit1/a.wav")
    assert readout.normalisation_view(s).reference == "Neutral reference for the recordings under p: ref.wav"
    n_jobs = len(rec.jobs())
    assert s.clear_reference()
    assert s.entry("/p/visit1/a.wav").status in (QUEUED, "analysing") and rec.jobs()[n_jobs].speaker_baseline


# -- what the panel reads: one answer -------------------------------------------------------------------------


def test_the_headline_is_its_labels_bar_and_the_summary_charts_share():
    s, rec, run = ready_session(lambda p, job: two_speakers(p) if "session" in p else clip(p, "happy", 0.83))
    s.set_speakers(2, reanalyse=False)
    s.add(["/v/clip.wav", "/v/session.wav"])
    run()
    # a clip: confidence, the bar of its label; no chart (nothing more to say)
    s.select("/v/clip.wav")
    h, bars = readout.headline_view(s), dict(readout.bars_view(s))
    assert (h.label, h.value) == ("happy", "confidence 83%") and bars["happy"] == pytest.approx(0.83)
    assert "probability" in h.definition and readout.summary_view(s) is None
    # a session with speakers, all of them: the recording's answer as a share of speech
    s.select("/v/session.wav")
    result = s.selected_result()
    h, bars = readout.headline_view(s), dict(readout.bars_view(s))
    assert h.label == result.label and h.value == f"{result.confidence:.0%} of speech"
    assert bars[h.label] == pytest.approx(result.confidence) and max(bars, key=bars.get) == h.label
    assert "share of the speech time" in h.definition and h.scope.endswith("all speakers")
    # each speaker's chart: their segments' shares; the headline for a speaker is their bar
    views = readout.speaker_views(s)
    assert [v.index for v in views] == [0, 1] and [v.turns for v in views] == [2, 2]
    for v, sp in zip(views, result.speakers, strict=True):
        assert v.summary.shares == pytest.approx(sp.probabilities) and v.label == sp.label
        s.set_scope(v.index)
        h, bars = readout.headline_view(s), dict(readout.bars_view(s))
        assert (h.label, h.value) == (sp.label, f"{sp.confidence:.0%} of their speech")
        assert bars[h.label] == pytest.approx(sp.confidence)
        assert readout.normalisation_text(s) == "Normalised with " + sp.normalisation.describe()
    # a segment: its label, its confidence, its bar
    s.select_segment(3)
    h, bars = readout.headline_view(s), dict(readout.bars_view(s))
    assert (h.label, h.value, h.scope) == ("sad", "confidence 60%", "Segment 0:07.0–0:19.0 · S2")
    assert bars["sad"] == pytest.approx(0.6)


def test_why_a_label_is_uncertain_low_confidence_or_too_noisy():
    s, rec, run = ready_session(lambda p, job: {"/v/quiet.wav": clip(p, "sad", 0.35),
                                                "/v/noisy.wav": clip(p, "sad", 0.9, snr=3.0),
                                                "/v/both.wav": clip(p, "sad", 0.3, snr=3.4)}[p])
    s.add(["/v/quiet.wav", "/v/noisy.wav", "/v/both.wav"])
    run()
    s.select("/v/quiet.wav")
    assert readout.uncertain_reasons(s) == ["low confidence: 35%, below the model's 40%"]
    assert readout.noise_text(s) == "Speech above the noise: 40 dB (recording)"
    s.select("/v/noisy.wav")
    (reason,) = readout.uncertain_reasons(s)
    assert reason.startswith("too noisy: speech only 3 dB above the noise (below 5 dB")
    s.select_segment(1)  # the segment: its own SNR
    assert readout.noise_text(s) == "Speech above the noise: 3 dB (recording) · 3 dB (this segment)"
    s.select("/v/both.wav")
    assert [r.split(":")[0] for r in readout.uncertain_reasons(s)] == ["low confidence", "too noisy"]


def test_a_session_in_a_loud_room_says_its_shares_may_lean_to_the_loud_emotions(qapp):
    from desktop.queue_model import LABEL, QueueModel

    s, rec, run = ready_session(lambda p, job: {"/v/room.wav": two_speakers(p, snr=12.0),
                                                "/v/quiet.wav": two_speakers(p, snr=30.0),
                                                "/v/clip.wav": clip(p, "sad", 0.9, snr=12.0)}[p])
    model = QueueModel(s)
    s.add(["/v/room.wav", "/v/quiet.wav", "/v/clip.wav"])
    run()
    # the queue's tooltip names the first reason: here the share (31%) is under the threshold too
    tip = model.index(0, LABEL).data(Qt.ItemDataRole.ToolTipRole)
    assert "(uncertain: below the model's threshold)" in tip
    # in the cell too, in words as a clip's is, not only by grey text a clinician may not notice
    assert model.index(0, LABEL).data().endswith(" (uncertain)")
    assert not model.index(1, LABEL).data().endswith(" (uncertain)")
    assert tip.splitlines()[1].endswith("(uncertain: below the model's threshold)")  # on the answer's line
    firm_share = Headline("calm", 0.6, "share", True)
    assert model.why_uncertain(firm_share, s.entry("/v/room.wav").result) == \
        "noisy room (speech 12 dB above the noise, below 25 dB)"
    s.select("/v/room.wav")
    (reason,) = [r for r in readout.uncertain_reasons(s) if r.startswith("noisy room")]
    assert reason.startswith("noisy room (speech 12 dB above the noise, below 25 dB): quiet speech may be missed")
    s.select_segment(1)  # a segment's label is its own speech, found: the session's reason is not its
    assert not any(r.startswith("noisy room") for r in readout.uncertain_reasons(s))
    s.select("/v/quiet.wav")
    assert not any(r.startswith("noisy room") for r in readout.uncertain_reasons(s))
    s.select("/v/clip.wav")  # one utterance at 12 dB: labelled as found, not uncertain
    assert readout.uncertain_reasons(s) == [] and not readout.headline_view(s).uncertain


def test_a_narrow_band_clip_labelled_alone_says_so_and_one_with_a_baseline_does_not():
    baseline = Normalisation("speaker", "folder v (16 files)", 40.0)
    s, rec, run = ready_session(lambda p, job: {"/v/phone.wav": clip(p, "sad", 0.9, band=-82.0),
                                                "/v/phone_base.wav": clip(p, "sad", 0.9, band=-82.0,
                                                                          normalisation=baseline)}[p])
    s.add(["/v/phone.wav", "/v/phone_base.wav"])
    run()
    s.select("/v/phone.wav")
    (reason,) = readout.uncertain_reasons(s)
    assert reason.startswith("narrow band: almost nothing above 4 kHz (-82 dB; a telephone line")
    assert readout.headline_view(s).uncertain
    s.select_segment(1)
    assert [r.split(":")[0] for r in readout.uncertain_reasons(s)] == ["narrow band"]
    s.select("/v/phone_base.wav")
    assert readout.uncertain_reasons(s) == [] and not readout.headline_view(s).uncertain


def test_the_normalisation_says_what_and_from_what_with_the_refusal_note():
    refused = Normalisation("global", "training data", None,
                            "speaker baseline refused: folder v (1 file): only 2.5 s of speech; a speaker baseline "
                            "needs at least 10 s")
    s, rec, run = ready_session(lambda p, job: clip(p, normalisation=refused))
    s.add(["/v/a.wav"])
    run()
    view = readout.normalisation_view(s)
    assert view.text == "Normalised with " + refused.describe() and view.warning
    assert "only 2.5 s of speech" in view.text


def test_a_renamed_speaker_s_baseline_is_called_by_their_name_in_the_panel_and_the_report():
    from ser_engine.report import report_content

    s, model, result = queued_two_speakers()
    s.rename_speaker(1, "Mrs A")
    s.set_scope(1)
    assert readout.normalisation_text(s) == ("Normalised with speaker baseline from Mrs A (S2)'s speech in this "
                                             "recording (11 s of speech)")
    lines = report_content(result, s.reviews.review(result), s.model).speakers
    assert any(line.startswith("Mrs A (S2):") and "from Mrs A (S2)'s speech" in line for line in lines)
    assert any(line.startswith("S1:") and "from S1's speech" in line for line in lines)
    # the result itself keeps the analysis's names (the JSON says whose speech, by number)
    back = Normalisation.from_dict(result.speakers[1].normalisation.to_dict())
    assert back == result.speakers[1].normalisation and back.to_dict()["speaker"] == "S2"
