"""The session report: `ser report` on a generated session with a saved review, its PDF read back
(pages and words), what it says on hand-made timelines, and bad input (one line, nothing written)."""

import dataclasses
import datetime
import os

import pypdf
import pytest

from ser_engine import EMOTIONS
from ser_engine.atomic import SHARED, file_mode
from ser_engine.bundle import load_bundle
from ser_engine.cli import main
from ser_engine.errors import ExportError
from ser_engine.paths import shipped_model_dir
from ser_engine.report import (
    MAX_PAGES,
    SCREENING,
    card_limits,
    clinician_notes,
    clock,
    report_content,
    write_report,
)
from ser_engine.results import GLOBAL, NO_SPEECH, Normalisation, Segment, SpeakerResult, Timeline
from ser_engine.review import Interval, Review, load_review, save_review
from ser_engine.segments import file_sha256
from tests.conftest import requires_data
from tests.ser_engine.long_fixtures import build_long_recording, shipped_predictor  # noqa: F401 (fixture)


def pdf_text(path):
    reader = pypdf.PdfReader(str(path))
    return len(reader.pages), " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def squeeze(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(shipped_model_dir())


# -- `ser report` on a generated session ------------------------------------------------------


@pytest.fixture(scope="module")
def session(tmp_path_factory, shipped_predictor):  # noqa: F811
    return build_long_recording(tmp_path_factory.mktemp("report") / "patient session.wav", predictor=shipped_predictor)


@requires_data
def test_ser_report_on_a_session_with_its_saved_review(session, shipped_predictor, tmp_path, capsys):  # noqa: F811
    # the clinician's review, saved as the window saves it: keyed by the audio's content hash
    first, second = session.speech[0], session.speech[1]
    review = Review(file_sha256(session.path), session.path.name)
    review.set_label(first[0], first[1], "sad")
    review.set_label(second[0], second[1], "frustrated")
    review.set_note("Second visit.\nThe patient was tired.")  # the notes as the window writes them
    review.set_segment_note(first[0], first[1], "long pause before this answer")
    save_review(review)
    out = tmp_path / "reports" / "session.pdf"
    code = main(["report", str(session.path), "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0 and stdout.strip() == str(out) and stderr == ""
    pages, text = pdf_text(out)
    assert 1 <= pages <= MAX_PAGES
    # the figures the report must carry, computed here from the same analysis and review
    tl = shipped_predictor.predict_file(session.path)
    saved = load_review(session.path)
    for needle in (session.path.name, tl.model_id, f"version {tl.model_version}", squeeze(SCREENING),
                   "screening estimates", "not a diagnosis", tl.normalisation.describe(),
                   f"Signal-to-noise ratio: {tl.snr_db:.1f} dB", f"Duration: {clock(tl.duration)}",
                   f"Model's answer: {tl.label}, {tl.confidence:.0%} of the speech time", tl.sha256,
                   "2 stretches labelled", "Second visit. The patient was tired.",
                   f"{clock(round(first[0], 3))}–{clock(round(first[1], 3))}: long pause before this answer"):
        assert needle in text, needle
    speech = sum(s.duration for s in tl.segments if s.is_speech)
    unsure = sum(s.duration for s in tl.segments if s.is_speech and s.uncertain)
    assert f"Uncertain: {unsure / speech:.0%} of the speech time" in text
    model = tl.summary()
    corrected = saved.summary(tl.segments, tl.labels, duration=tl.duration)
    assert corrected.seconds["sad"] >= first[1] - first[0] - 1e-3
    for label in tl.labels:
        assert f"{label} {model.shares[label]:.0%} ({clock(model.seconds[label])})" in text, label
        assert f"{corrected.shares[label]:.0%} ({clock(corrected.seconds[label])})" in text, label
    assert f"frustrated 0% (0:00.0) {corrected.shares['frustrated']:.0%}" in text
    for limit in card_limits(load_bundle(shipped_model_dir()).card):
        assert squeeze(limit) in text
    assert out.stat().st_mode & 0o777 == file_mode(SHARED)  # a document to share, as exports are


def _no_litter(folder):
    return [p.name for p in folder.iterdir()] if folder.exists() else []


@requires_data
def test_ser_report_analyses_with_the_speakers_the_review_remembers(session, tmp_path, capsys):
    review = Review(file_sha256(session.path), session.path.name, speaker_count=2, speaker_names={0: "Dr C."},
                    patient=1)
    save_review(review)
    out = tmp_path / "two.pdf"
    assert main(["report", str(session.path), "--out", str(out)]) == 0
    capsys.readouterr()
    _, text = pdf_text(out)
    assert "S2 (patient): " in text and "Dr C. (S1): " in text
    assert text.index("Speakers") < text.index("S2 (patient)") < text.index("Dr C. (S1): ")  # the patient first
    assert "of the patient's speech time" in text and "Whole recording: " in text  # the patient's answer leads


BAD_AUDIO = [
    ("noise.wav", os.urandom(4000), "not a readable audio file"),
    ("empty.flac", b"", "empty"),
]


@requires_data
@pytest.mark.parametrize("name, content, reason", BAD_AUDIO, ids=[b[0] for b in BAD_AUDIO])
def test_unreadable_audio_writes_nothing(tmp_path, capsys, name, content, reason):
    audio = tmp_path / name
    audio.write_bytes(content)
    folder = tmp_path / "out"
    folder.mkdir()
    old = folder / "report.pdf"
    old.write_bytes(b"%PDF- an earlier report")
    code = main(["report", str(audio), "--out", str(old)])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and str(audio) in err and reason in err
    assert old.read_bytes() == b"%PDF- an earlier report" and _no_litter(folder) == ["report.pdf"]


def test_missing_audio(tmp_path, capsys):
    code = main(["report", str(tmp_path / "gone.wav"), "--out", str(tmp_path / "r.pdf")])
    _, err = capsys.readouterr()
    assert code == 1 and err == f"ser: {tmp_path / 'gone.wav'}: cannot be read (No such file or directory)\n"
    assert _no_litter(tmp_path) == []


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_unwritable_out_is_refused_before_analysis(tmp_path, capsys, where):
    audio = tmp_path / "never analysed.wav"
    audio.write_bytes(b"not even audio: the destination is checked first")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file", encoding="utf-8")
    out = blocker / "report.pdf" if where == "under a file" else tmp_path
    code = main(["report", str(audio), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and str(out) in err
    assert ("is a file, not a folder" if where == "under a file" else "is a folder") in err
    assert sorted(_no_litter(tmp_path)) == ["never analysed.wav", "notes.txt"]


# -- what the report says, on hand-made timelines ---------------------------------------------


def _probs(top, p):
    return {e: (p if e == top else (1 - p) / (len(EMOTIONS) - 1)) for e in EMOTIONS}


def _timeline(duration, *, speakers=(), snr=22.5, step=6.0):
    segs, t, i = [], 0.0, 0
    while t < duration:
        end = min(t + step, duration)
        if i % 3 == 2:
            segs.append(Segment(t, end, NO_SPEECH, None, {}))
        else:
            top = EMOTIONS[i % len(EMOTIONS)]
            conf = 0.4 if i % 4 == 0 else 0.8
            segs.append(Segment(t, end, top, conf, _probs(top, conf), uncertain=conf < 0.51, speaker=i % 2))
        t, i = end, i + 1
    speech = sum(s.duration for s in segs if s.is_speech)
    answer = {e: sum(s.probabilities.get(e, 0) * s.duration for s in segs if s.is_speech) / speech for e in EMOTIONS}
    label = max(answer, key=lambda k: answer[k])
    return Timeline("/records/patient 7/visit.wav", duration, segs, EMOTIONS, load_bundle(shipped_model_dir()).model_id,
                    "0.1.0", Normalisation("speaker", "this recording", speech), label=label,
                    confidence=answer[label], probabilities=answer, sha256="0f" * 32, speakers=list(speakers),
                    snr_db=snr)


def test_speakers_notes_and_limits(tmp_path, bundle):
    speakers = [SpeakerResult(0, 300.0, 14, "sad", 0.42, _probs("sad", 0.42), True,
                              Normalisation("speaker", "this recording", 290.0)),
                SpeakerResult(1, 200.0, 13, "calm", 0.55, _probs("calm", 0.55), False, GLOBAL)]
    tl = _timeline(900.0, speakers=speakers, snr=4.0)
    review = Review(tl.sha256, "visit.wav", speaker_names={0: "Mr B."}, patient=0)
    review.set_label(6.0, 12.0, "angry")
    # notes as the extended review format may hold them (the attribute is not in today's format)
    review.notes = "Low mood reported at intake."
    review.segment_notes = [{"start": 6.0, "end": 12.0, "text": "raised voice, then quiet"}]
    dest = write_report(tl, review, bundle, tmp_path / "r.pdf",
                        analysed=datetime.datetime(2026, 12, 1, 9, 5, tzinfo=datetime.timezone.utc))
    pages, text = pdf_text(dest)
    assert 1 <= pages <= MAX_PAGES
    # each speaker's answer, time and turns from their segments (as the window's speaker summaries),
    # not the analysis's figures; the patient's answer leads, the whole recording's follows
    assert "Mr B. (S1) (patient): 5:00.0 of speech in 26 turns; disgust 24% of their speech (uncertain)" in text
    assert "S2: 5:00.0 of speech in 25 turns; calm 23% of their speech (uncertain); global statistics" in text
    assert "Model's answer: disgust, 24% of the patient's speech time (uncertain) (Mr B. (S1))" in text
    assert "Whole recording: calm, 14% of the speech time (all speakers)" in text
    assert "Low mood reported at intake." in text and "0:06.0–0:12.0: raised voice, then quiet" in text
    assert "Analysed: 2026-12-01 09:05 UTC" in text
    assert ("4.0 dB (below 5 dB: labels marked uncertain); noisy room (speech 4 dB above the noise, below 25 dB): "
            "quiet speech may be missed") in text
    assert "Duration: 15:00.0" in text


def test_a_long_recording_with_many_notes_stays_within_three_pages(tmp_path, bundle):
    tl = _timeline(4 * 3600.0, step=7.0)
    review = Review(tl.sha256)
    for k in range(400):
        review.set_label(k * 30.0, k * 30.0 + 5.0, "sad")
    review.notes = [f"note {k}: the patient pauses before answering question {k}" for k in range(300)]
    dest = write_report(tl, review, bundle, tmp_path / "long.pdf")
    pages, text = pdf_text(dest)
    assert pages == MAX_PAGES
    assert "note 0: the patient pauses" in text and "note 299:" not in text
    assert "more note(s) in the review, not shown here" in text
    assert "4:00:00" in text  # the duration, and the time axis's last tick


def test_content_without_a_review_or_speech(bundle):
    segs = [Segment(0.0, 5.0, NO_SPEECH, None, {})]
    tl = Timeline("quiet.wav", 5.0, segs, EMOTIONS, bundle.model_id, bundle.version, GLOBAL, label=NO_SPEECH,
                  confidence=None, probabilities={e: 0.0 for e in EMOTIONS}, snr_db=None)
    content = report_content(tl, None, bundle)
    facts = dict(content.facts)
    assert facts["Model's answer"] == "no speech found" and facts["Uncertain"] == "no speech"
    assert facts["Clinician's review"] == "none" and facts["Signal-to-noise ratio"].startswith("not measured")
    assert content.uncertain_share is None and not content.corrected
    assert [r.label for r in content.shares] == [*EMOTIONS, NO_SPEECH]
    assert content.shares[-1].model_share == 1.0 and content.speakers == [] and content.notes == []


def test_limits_come_from_the_card_of_the_model_that_labelled(bundle):
    tl = _timeline(30.0)
    assert report_content(tl, None, bundle).limits == card_limits(bundle.card)
    other = dataclasses.replace(tl, model_id="someone-else")
    (line,) = report_content(other, None, bundle).limits
    assert "not of someone-else" in line
    (line,) = report_content(tl, None, None).limits
    assert "not available" in line


def test_card_limits():
    card = "# m\n\n## Limits\n- Acted speech only;\n  never children.\n- Eight labels.\n\n## Other\n- not a limit\n"
    assert card_limits(card) == ["Acted speech only; never children.", "Eight labels."]
    assert card_limits("# m\n## Data\n- RAVDESS\n") == []
    shipped = card_limits(load_bundle(shipped_model_dir()).card)
    assert len(shipped) >= 3 and all(not line.startswith("-") for line in shipped)


@dataclasses.dataclass
class _Note:
    start: float
    end: float
    text: str


@pytest.mark.parametrize("attrs, expected", [
    ({}, []),
    ({"notes": "  Tired,\n slow speech. "}, ["Tired, slow speech."]),
    ({"notes": ""}, []),
    ({"notes": ["first", {"note": "second"}, {"text": ""}, 7]}, ["first", "second"]),
    ({"segment_notes": [_Note(1.0, 2.5, "sighs")]}, ["0:01.0–0:02.5: sighs"]),
    ({"segment_notes": {(3.0, 4.0): "laughs", (5.0, 6.0): {"text": "cries"}}},
     ["0:03.0–0:04.0: laughs", "0:05.0–0:06.0: cries"]),
    ({"segment_notes": [{"start": "soon", "end": None, "text": "no times"}]}, ["no times"]),
    ({"note": "once", "notes": ["once"]}, ["once"]),
    ({"notes": 42}, []),
])
def test_clinician_notes_read_defensively(attrs, expected):
    review = Review("aa" * 32, intervals=[Interval(0.0, 1.0, "sad")])
    for key, value in attrs.items():
        setattr(review, key, value)
    assert clinician_notes(review) == expected


def test_clinician_notes_of_todays_review_and_none():
    assert clinician_notes(Review("bb" * 32)) == [] and clinician_notes(None) == []


def test_write_report_refuses_a_folder(tmp_path, bundle):
    with pytest.raises(ExportError, match="is a folder"):
        write_report(_timeline(20.0), None, bundle, tmp_path)
    assert _no_litter(tmp_path) == []


@pytest.mark.parametrize("seconds, text", [(0.0, "0:00.0"), (3.94, "0:03.9"), (59.96, "1:00.0"), (754.2, "12:34.2"),
                                           (3599.96, "1:00:00"), (3725.0, "1:02:05"), (float("nan"), "–")])
def test_clock(seconds, text):
    assert clock(seconds) == text
