"""Exports re-read with csv, json, praatio and pympi-ling, and compared with the timeline and review."""

import csv
import dataclasses
import io
import json
import os
import stat

import pytest

from ser_engine.errors import ExportError
from ser_engine.exports import FORMATS, audacity_paths, csv_text, export_timeline
from ser_engine.results import NO_SPEECH, Timeline
from ser_engine.review import for_timeline
from ser_engine.segments import analyse_recording
from tests.conftest import requires_data
from tests.ser_engine.long_fixtures import long_recording, shipped_predictor  # noqa: F401 (fixtures)

pytestmark = requires_data


@pytest.fixture(scope="module")
def reviewed(shipped_predictor, long_recording):  # noqa: F811
    tl = analyse_recording(shipped_predictor, long_recording.path)
    review = for_timeline(tl)
    speech = [s for s in tl.segments if s.label != NO_SPEECH]
    review.set_label(speech[0].start, speech[0].end, "sad")  # a corrected segment
    quiet = [s for s in tl.segments if s.label == NO_SPEECH][1]
    review.set_label(quiet.start + 0.2, quiet.start + 0.9, "fearful")  # a free interval
    return tl, review


def _model_tier(tl):
    return [(round(s.start, 3), round(s.end, 3), s.label) for s in tl.segments]


def _clin_tier(review):
    return [(round(i.start, 3), round(i.end, 3), i.label) for i in review.intervals]


def test_csv(reviewed, tmp_path):
    tl, review = reviewed
    path, = export_timeline(tl, tmp_path / "out.csv", "csv", review=review)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert all(r["model_id"] == tl.model_id and r["model_version"] == tl.model_version for r in rows)
    segs = [r for r in rows if r["row"] == "segment"]
    assert [(float(r["start"]), float(r["end"]), r["label"]) for r in segs] == _model_tier(tl)
    for r, s in zip(segs, tl.segments, strict=True):
        if s.label != NO_SPEECH:
            for lab in tl.labels:
                assert float(r[f"p_{lab}"]) == pytest.approx(s.probabilities[lab], abs=1e-4)
            assert float(r["confidence"]) == pytest.approx(s.confidence, abs=1e-4)
        assert r["clinician_label"] == (review.label_for(s.start, s.end) or "")
    assert sum(r["clinician_label"] == "sad" for r in segs) == 1
    free = [r for r in rows if r["row"] == "clinician"]
    assert [(r["clinician_label"]) for r in free] == ["fearful"]
    summary = {r["label"]: float(r["share"]) for r in rows if r["row"] == "summary"}
    assert set(summary) == set(tl.labels) | {NO_SPEECH}
    for lab, share in tl.summary().shares.items():
        assert summary[lab] == pytest.approx(share, abs=1e-4)
    assert rows[-1]["row"] == "summary" and rows[-1]["label"] == NO_SPEECH
    clin = {r["label"]: float(r["duration"]) for r in rows if r["row"] == "clinician_summary"}
    # the clinician's 0.7 s of fearful count whole, beside the model's estimate where uncorrected
    corrected = review.summary(tl.segments, tl.labels, duration=tl.duration).seconds
    assert clin["sad"] > 0 and clin["fearful"] == pytest.approx(corrected["fearful"], abs=1e-3)
    assert clin["fearful"] >= 0.7 - 1e-3


def test_json(reviewed, tmp_path):
    tl, review = reviewed
    path, = export_timeline(tl, tmp_path / "out.json", "json", review=review)
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["model"] == {"id": tl.model_id, "version": tl.model_version} and d["sha256"] == tl.sha256
    assert [(s["start"], s["end"], s["label"]) for s in d["segments"]] == _model_tier(tl)
    assert [(c["start"], c["end"], c["label"]) for c in d["clinician"]] == _clin_tier(review)
    assert d["summary"]["shares"] == pytest.approx(tl.summary().to_dict()["shares"])
    corrected = review.summary(tl.segments, tl.labels, duration=tl.duration).seconds
    assert d["clinician_summary"]["seconds"]["fearful"] == pytest.approx(corrected["fearful"], abs=1e-3)
    assert d["clinician_summary"]["seconds"]["fearful"] >= 0.7 - 1e-3
    back = Timeline.from_dict(d)
    assert [(s.label, s.uncertain) for s in back.segments] == [(s.label, s.uncertain) for s in tl.segments]
    assert d["emotion_mix"] == tl.emotion_mix == back.emotion_mix == "training"  # 12 s of speech


def test_textgrid(reviewed, tmp_path):
    from praatio import textgrid

    tl, review = reviewed
    path, = export_timeline(tl, tmp_path / "out.TextGrid", "textgrid", review=review)
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["model", "clinician", "info"]
    assert [(round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier("model").entries] == _model_tier(tl)
    assert [(round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier("clinician").entries] == \
        _clin_tier(review)
    info = tg.getTier("info").entries[0].label
    assert tl.model_id in info and tl.model_version in info and "speech" in info


def test_eaf(reviewed, tmp_path):
    import pympi

    tl, review = reviewed
    path, = export_timeline(tl, tmp_path / "out.eaf", "eaf", review=review)
    eaf = pympi.Elan.Eaf(str(path))
    assert set(eaf.get_tier_names()) == {"model", "clinician"}
    model = sorted(eaf.get_annotation_data_for_tier("model"))
    assert [(a / 1000, b / 1000, v) for a, b, v in model] == \
        [(round(s.start, 3), round(s.end, 3), s.label) for s in tl.segments]
    clin = sorted(eaf.get_annotation_data_for_tier("clinician"))
    assert [(a / 1000, b / 1000, v) for a, b, v in clin] == _clin_tier(review)
    props = dict(eaf.get_properties())
    assert props["model_id"] == tl.model_id and props["model_version"] == tl.model_version
    assert eaf.get_linked_files()[0]["MEDIA_URL"].endswith("session.wav")


def test_audacity(reviewed, tmp_path):
    tl, review = reviewed
    written = export_timeline(tl, tmp_path / "session", "audacity", review=review)
    assert written == list(audacity_paths(tmp_path / "session"))
    tiers = []
    for p in written:
        lines = [ln.split("\t") for ln in p.read_text(encoding="utf-8").splitlines()]
        assert lines[0][:2] == ["0.000000", "0.000000"] and tl.model_id in lines[0][2]
        tiers.append([(round(float(a), 3), round(float(b), 3), lab) for a, b, lab in lines[1:]])
    assert tiers == [_model_tier(tl), _clin_tier(review)]


def test_writes_are_atomic_and_errors_one_line(reviewed, tmp_path):
    tl, review = reviewed
    for fmt in FORMATS:
        export_timeline(tl, tmp_path / f"out.{fmt}", fmt, review=review)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError) as err:
        export_timeline(tl, blocker / "out.csv", "csv")
    assert "out.csv" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ExportError, match="unknown"):
        export_timeline(tl, tmp_path / "x", "docx")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_every_export_format_gets_the_permissions_of_a_saved_document(reviewed, tmp_path, umask_022):
    # Before: 0600 (the temporary file's mode), so a colleague or another program could not
    # open what the user exported; every format is now 0666 less the umask.
    from ser_engine.exports import summary_row, write_csv, write_jsonl, write_summary_csv

    tl, review = reviewed
    written = []
    for fmt in FORMATS:
        written += export_timeline(tl, tmp_path / f"out.{fmt}", fmt, review=review)
    written.append(write_csv(tmp_path / "queue.csv", [(tl, review)], tl.labels))
    written.append(write_jsonl(tmp_path / "queue.jsonl", [(tl, review)]))
    row = summary_row(tl.path, status="done", labels=tl.labels, result=tl, review=review)
    written.append(write_summary_csv(tmp_path / "summary.csv", [row], tl.labels))
    assert len(written) == len(FORMATS) + 4  # audacity: two files
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {oct(0o644)}


def test_the_summary_csv_carries_the_clinician_labels(reviewed, tmp_path):
    from ser_engine.exports import summary_row, write_summary_csv
    from ser_engine.results import Failure

    tl, review = reviewed
    rows = [summary_row(tl.path, status="done", labels=tl.labels, result=tl, review=review),
            summary_row(tl.path, status="done", labels=tl.labels, result=tl, review=None),
            summary_row("/x/gone.wav", status="error", labels=tl.labels, error=Failure("/x/gone.wav", "gone").error)]
    path = write_summary_csv(tmp_path / "summary.csv", rows, tl.labels)
    got = list(csv.DictReader(path.open(encoding="utf-8")))
    corrected = review.summary(tl.segments, tl.labels, duration=tl.duration)
    dominant = max(corrected.shares, key=corrected.shares.get)
    assert got[0]["clinician_intervals"] == "2" and got[0]["clinician_labels"] == "sad;fearful"  # in time order
    assert got[0]["clinician_dominant"] == dominant
    assert float(got[0]["clinician_dominant_share"]) == pytest.approx(corrected.shares[dominant], abs=1e-4)
    assert got[0]["label"] == tl.label and got[0]["model_id"] == tl.model_id
    assert sum(float(got[0][f"p_{k}"]) for k in tl.labels) == pytest.approx(1.0, abs=1e-3)
    assert got[1]["clinician_intervals"] == "0" and got[1]["clinician_dominant"] == ""
    assert got[2]["status"] == "error" and got[2]["error"] == "gone" and got[2]["label"] == ""


# -- speakers and noise ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_speakers(shipped_predictor, long_recording):  # noqa: F811
    """The long recording analysed as two speakers, reviewed: named, the patient chosen, one
    segment given to the other speaker."""
    from ser_engine.segments import SegmentConfig

    tl = analyse_recording(shipped_predictor, long_recording.path, config=SegmentConfig(speakers=2))
    review = for_timeline(tl)
    review.rename_speaker(0, "Clinician")
    review.rename_speaker(1, "Patient")
    review.set_patient(1)
    moved = next(s for s in tl.segments if s.speaker == 0)
    review.move_segment(moved.start, moved.end, 1, found=0)
    return tl, review, moved


def _who(review, seg):
    k = review.speaker_of(seg)
    return "" if k is None else review.speaker_label(k)


def test_csv_names_each_segments_speaker_and_its_snr(two_speakers, tmp_path):
    tl, review, moved = two_speakers
    assert len(tl.speakers) == 2
    path, = export_timeline(tl, tmp_path / "out.csv", "csv", review=review)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    segs = [r for r in rows if r["row"] == "segment"]
    assert [r["speaker"] for r in segs] == [_who(review, s) for s in tl.segments]
    assert {r["speaker"] for r in segs} == {"", "Clinician", "Patient"}
    assert next(r for r in segs if float(r["start"]) == round(moved.start, 3))["speaker"] == "Patient"
    for r, s in zip(segs, tl.segments, strict=True):
        assert r["snr_db"] == ("" if s.snr_db is None else f"{s.snr_db:.1f}")
    assert any(r["snr_db"] for r in segs)
    per = {}
    for r in rows:
        if r["row"] == "speaker_summary":
            per.setdefault(r["speaker"], {})[r["label"]] = float(r["share"])
    assert list(per) == ["Patient", "Clinician"]  # the patient first
    for shares in per.values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3) and set(shares) == set(tl.labels)
    assert rows[-1]["row"] == "summary" and rows[-1]["label"] == NO_SPEECH  # still the last row


def test_json_carries_names_the_patient_and_the_moved_segment(two_speakers, tmp_path):
    tl, review, moved = two_speakers
    path, = export_timeline(tl, tmp_path / "out.json", "json", review=review)
    d = json.loads(path.read_text(encoding="utf-8"))
    assert [(s["speaker"], s["name"], s["patient"]) for s in d["speakers"]] == \
        [("S1", "Clinician", False), ("S2", "Patient", True)]
    assert d["snr_db"] == round(tl.snr_db, 1)
    segs = {(s["start"], s["end"]): s for s in d["segments"]}
    m = segs[(round(moved.start, 3), round(moved.end, 3))]
    assert (m["speaker"], m["clinician_speaker"], m["speaker_name"]) == ("S1", "S2", "Patient")
    assert d["speaker_review"]["names"] == {"S1": "Clinician", "S2": "Patient"}
    assert d["speaker_review"]["moves"] == [{"start": round(moved.start, 3), "end": round(moved.end, 3),
                                             "speaker": "S2"}]


def test_textgrid_and_eaf_get_a_tier_per_speaker(two_speakers, tmp_path):
    import pympi
    from praatio import textgrid

    tl, review, _ = two_speakers
    expected = {name: [(round(s.start, 3), round(s.end, 3), s.label) for s in review.segments_of(tl.segments, k)]
                for k, name in ((1, "Patient"), (0, "Clinician"))}
    path, = export_timeline(tl, tmp_path / "out.TextGrid", "textgrid", review=review)
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["model", "clinician", "Patient", "Clinician", "info"]
    for name, tier in expected.items():
        assert [(round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier(name).entries] == tier
    path, = export_timeline(tl, tmp_path / "out.eaf", "eaf", review=review)
    eaf = pympi.Elan.Eaf(str(path))
    assert set(eaf.get_tier_names()) == {"model", "clinician", "Patient", "Clinician"}
    for name, tier in expected.items():
        assert eaf.tiers[name][2]["PARTICIPANT"] == name
        got = sorted(eaf.get_annotation_data_for_tier(name))
        assert [(a / 1000, b / 1000, v) for a, b, v in got] == tier


def test_without_a_review_speakers_are_s1_s2_and_the_summary_row_names_them(two_speakers, tmp_path):
    from ser_engine.exports import summary_row

    tl, review, _ = two_speakers
    rows = list(csv.DictReader(io.StringIO(csv_text([(tl, None)], tl.labels))))
    assert {r["speaker"] for r in rows if r["row"] == "segment"} == {"", "S1", "S2"}
    row = summary_row(tl.path, status="done", labels=tl.labels, result=tl, review=review)
    assert row["speakers"] == "Patient; Clinician" and row["snr_db"] == f"{tl.snr_db:.1f}"
    assert row["normalised_with"] == tl.normalisation.describe() and row["normalisation"] == tl.normalisation.mode
    assert row["emotion_mix"] == "training"  # 12 s of speech: too little for its own mix


def test_each_csv_row_says_whose_mix_of_emotions_its_probabilities_assume(two_speakers):
    # one speaker with enough speech of their own gets their own mix, the other keeps training's:
    # each segment row and each speaker's summary rows say which, the recording's rows its own
    tl, _, _ = two_speakers
    speakers = [dataclasses.replace(sp, emotion_mix="recording" if sp.index == 1 else "training")
                for sp in tl.speakers]
    mixed = dataclasses.replace(tl, emotion_mix="recording", speakers=speakers)
    rows = list(csv.DictReader(io.StringIO(csv_text([(mixed, None)], tl.labels))))
    for r, s in zip((r for r in rows if r["row"] == "segment"), tl.segments, strict=True):
        assert r["emotion_mix"] == ("" if not s.is_speech else "recording" if s.speaker == 1 else "training")
    assert {r["speaker"]: r["emotion_mix"] for r in rows if r["row"] == "speaker_summary"} == {"S2": "recording",
                                                                                                "S1": "training"}
    assert {r["emotion_mix"] for r in rows if r["row"] == "summary"} == {"recording"}
