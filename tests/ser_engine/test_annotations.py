"""Importing annotations as the clinician tier: the project's own exports read back, files as
Praat, ELAN and Audacity write them, label mapping, and bad files (one line, nothing changed)."""

import json

import pytest

from ser_engine import EMOTIONS
from ser_engine.annotations import (
    SYNONYMS,
    apply_to_review,
    import_tier,
    map_label,
    read_annotations,
)
from ser_engine.errors import AnnotationError
from ser_engine.exports import audacity_paths, export_timeline
from ser_engine.results import GLOBAL, NO_SPEECH, Segment, Timeline
from ser_engine.review import Interval, Review, load_review, review_path, save_review


def _probs(top, p):
    return {e: (p if e == top else (1 - p) / (len(EMOTIONS) - 1)) for e in EMOTIONS}


@pytest.fixture
def reviewed(tmp_path):
    """A timeline with speech and pauses, and a review with a corrected segment, a free
    interval and a label of the clinician's own."""
    segs = [Segment(0.0, 1.25, NO_SPEECH, None, {}),
            Segment(1.25, 4.2, "angry", 0.8, _probs("angry", 0.8)),
            Segment(4.2, 6.0, NO_SPEECH, None, {}),
            Segment(6.0, 9.333, "calm", 0.6, _probs("calm", 0.6)),
            Segment(9.333, 12.5, "happy", 0.45, _probs("happy", 0.45), uncertain=True)]
    tl = Timeline(str(tmp_path / "session one.wav"), 12.5, segs, EMOTIONS, "test-model", "0.1.0", GLOBAL,
                  label="angry", confidence=0.4, probabilities=_probs("angry", 0.4), sha256="ab" * 32)
    review = Review(tl.sha256, "session one.wav")
    review.set_label(1.25, 4.2, "sad")             # a corrected segment
    review.set_label(4.5, 5.25, "frustrated")       # a free interval, a word outside the model
    review.set_label(9.333, 12.5, NO_SPEECH)       # the clinician hears no speech there
    return tl, review


def _tier(intervals):
    return [(round(i.start, 3), round(i.end, 3), i.label) for i in intervals]


def _export(tl, review, fmt, folder):
    dest = folder / {"textgrid": "out.TextGrid", "eaf": "out.eaf", "audacity": "out"}[fmt]
    export_timeline(tl, dest, fmt, review=review)
    return dest


@pytest.mark.parametrize("fmt", ["textgrid", "eaf", "audacity"])
def test_own_exports_read_back_as_both_tiers(reviewed, tmp_path, fmt):
    tl, review = reviewed
    dest = _export(tl, review, fmt, tmp_path)
    if fmt == "audacity":
        model_file, clinician_file = audacity_paths(dest)
        clinician = import_tier(clinician_file, duration=tl.duration)
        model = import_tier(model_file, duration=tl.duration)
        assert clinician.points == 1  # the line naming the model, at 0 s, is a point: skipped
        assert read_annotations(clinician_file).tier_names == ["out.clinician"]
    else:
        names = read_annotations(dest).tier_names
        assert names[:2] == ["model", "clinician"]
        clinician = import_tier(dest, "clinician", duration=tl.duration)
        model = import_tier(dest, "model", duration=tl.duration)
    assert clinician.format == fmt
    assert _tier(clinician.intervals) == _tier(review.intervals)
    assert clinician.unmatched == {"frustrated": 1} and clinician.mapped == {}
    assert _tier(model.intervals) == [(round(s.start, 3), round(s.end, 3), s.label) for s in tl.segments]
    assert "frustrated" in clinician.describe() and "kept as written" in clinician.describe()


@pytest.mark.parametrize("fmt", ["textgrid", "eaf", "audacity"])
def test_imported_tier_becomes_the_saved_review(reviewed, tmp_path, fmt):
    tl, review = reviewed
    dest = _export(tl, review, fmt, tmp_path)
    path = audacity_paths(dest)[1] if fmt == "audacity" else dest
    imported = import_tier(path, None if fmt == "audacity" else "clinician", duration=tl.duration)
    fresh = Review(tl.sha256, "session one.wav", intervals=[Interval(0.2, 0.9, "happy")])
    before = apply_to_review(fresh, imported)
    assert _tier(before) == [(0.2, 0.9, "happy")]  # what it held, for undo
    save_review(fresh)
    again = load_review(sha256=tl.sha256)
    assert _tier(again.intervals) == _tier(review.intervals)
    # the corrected summary counts the clinician's own word under its name
    summary = again.summary(tl.segments, tl.labels, duration=tl.duration)
    assert summary.seconds["frustrated"] == pytest.approx(0.75, abs=2e-3)
    assert summary.no_speech_seconds == pytest.approx(1.25 + 1.8 - 0.75 + 3.167, abs=2e-3)


def test_laid_over_keeps_what_the_import_does_not_cover(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("2.0\t3.0\tAnger\n", encoding="utf-8")
    review = Review("cd" * 32, intervals=[Interval(0.0, 1.0, "calm"), Interval(2.5, 4.0, "sad")])
    before = apply_to_review(review, import_tier(labels), replace=False)
    assert _tier(before) == [(0.0, 1.0, "calm"), (2.5, 4.0, "sad")]
    assert _tier(review.intervals) == [(0.0, 1.0, "calm"), (2.0, 3.0, "angry"), (3.0, 4.0, "sad")]


PRAAT_LONG = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 8
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "emotion"
        xmin = 0
        xmax = 8
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 1.5
            text = ""
        intervals [2]:
            xmin = 1.5
            xmax = 3.25
            text = "Anger"
        intervals [3]:
            xmin = 3.25
            xmax = 5
            text = "<sil>"
        intervals [4]:
            xmin = 5
            xmax = 8
            text = "Traurigkeit ""leise"""
    item [2]:
        class = "TextTier"
        name = "events"
        xmin = 0
        xmax = 8
        points: size = 1
        points [1]:
            number = 2.5
            mark = "cough"
'''

PRAAT_SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
8
<exists>
1
"IntervalTier"
"emotion"
0
8
3
0
2
"hap"
2
5
""
5
8
"SADNESS"
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_praat_long_text_grid(tmp_path, encoding):
    path = tmp_path / "praat.TextGrid"
    path.write_bytes(PRAAT_LONG.encode(encoding))  # Praat writes UTF-16 with a byte-order mark
    source = read_annotations(path)
    assert source.tier_names == ["emotion"]  # the point tier cannot be a clinician tier
    imported = import_tier(path)
    assert _tier(imported.intervals) == [(1.5, 3.25, "angry"), (3.25, 5.0, NO_SPEECH),
                                         (5.0, 8.0, 'Traurigkeit "leise"')]
    assert imported.mapped == {"Anger": "angry", "<sil>": NO_SPEECH}
    assert imported.unmatched == {'Traurigkeit "leise"': 1}


def test_praat_short_text_grid(tmp_path):
    path = tmp_path / "short.TextGrid"
    path.write_text(PRAAT_SHORT, encoding="utf-8")
    imported = import_tier(path)
    assert _tier(imported.intervals) == [(0.0, 2.0, "happy"), (5.0, 8.0, "sad")]
    assert imported.unmatched == {}


def test_text_grid_named_txt_is_read_as_text_grid(tmp_path):
    path = tmp_path / "praat.txt"
    path.write_text(PRAAT_SHORT, encoding="utf-8")
    assert read_annotations(path).format == "textgrid"


def test_elan_file_with_several_tiers_and_a_child_tier(tmp_path):
    import pympi

    eaf = pympi.Elan.Eaf(author="someone")
    eaf.add_tier("Emotion")
    eaf.add_annotation("Emotion", 500, 2500, "FEAR")
    eaf.add_annotation("Emotion", 3000, 4200, "Disgusted")
    eaf.add_linguistic_type("note", "Symbolic_Association")
    eaf.add_tier("Note", ling="note", parent="Emotion")
    eaf.add_ref_annotation("Note", "Emotion", 1000, "trembling voice")
    path = tmp_path / "elan.eaf"
    eaf.to_file(str(path))
    source = read_annotations(path)
    assert set(source.tier_names) == {"default", "Emotion", "Note"}
    with pytest.raises(AnnotationError, match="choose the one to import") as info:
        import_tier(path)
    assert "'Emotion'" in str(info.value) and "'Note'" in str(info.value)
    imported = import_tier(path, "Emotion")
    assert _tier(imported.intervals) == [(0.5, 2.5, "fearful"), (3.0, 4.2, "disgust")]
    note = import_tier(path, "Note")
    assert _tier(note.intervals) == [(0.5, 2.5, "trembling voice")]


def test_audacity_labels_with_frequency_lines_and_points(tmp_path):
    path = tmp_path / "track.txt"
    path.write_text("0.5\t1.5\tJoy\n\\\t120.0\t3400.0\n2.0\t2.0\tclick\n3.0\t4.5\tsurprise\n\n", encoding="utf-8")
    imported = import_tier(path)
    assert _tier(imported.intervals) == [(0.5, 1.5, "happy"), (3.0, 4.5, "surprised")]
    assert imported.points == 1 and imported.tier == "track"


def test_labels_a_little_past_the_end_are_cut(tmp_path):
    path = tmp_path / "track.txt"
    path.write_text("1.0\t5.3\tcalm\n", encoding="utf-8")
    imported = import_tier(path, duration=5.0)
    assert _tier(imported.intervals) == [(1.0, 5.0, "calm")] and imported.clipped == 1


@pytest.mark.parametrize("text, expected", [
    ("angry", "angry"), ("ANGER", "angry"), ("ang", "angry"), (" Sadness ", "sad"), ("[hap]", "happy"),
    ("Neutral", "neutral"), ("fear", "fearful"), ("Surprise", "surprised"), ("disg", "disgust"),
    ("relaxed", "calm"), ("<SIL>", NO_SPEECH), ("no  speech", NO_SPEECH), ("silence", NO_SPEECH),
    ("frustrated", None), ("happy-ish", None), ("", None),
])
def test_label_mapping(text, expected):
    assert map_label(text) == expected


def test_mapping_only_to_the_model_s_emotions():
    four = ("neutral", "happy", "sad", "angry")
    assert map_label("calm", four) is None and map_label("Anger", four) == "angry"
    assert map_label("sil", four) == NO_SPEECH


def test_synonyms_are_distinct_and_lower_case():
    words = [w for ws in SYNONYMS.values() for w in ws] + list(SYNONYMS)
    assert len(words) == len(set(words)) and all(w == w.lower() for w in words)
    assert set(SYNONYMS) == set(EMOTIONS) | {NO_SPEECH}


EAF_UNALIGNED = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">
<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>
<TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="100"/><TIME_SLOT TIME_SLOT_ID="ts2"/></TIME_ORDER>
<TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="emotion">
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
<ANNOTATION_VALUE>sad</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>
</ANNOTATION_DOCUMENT>
"""

BAD_FILES = [
    ("empty.TextGrid", b"", "is empty"),
    ("spaces.txt", b"  \n\n", "is empty"),
    ("noise.eaf", bytes(range(256)) * 4, "not text"),
    ("latin1.txt", "1.0\t2.0\tsé\n".encode("latin-1"), "not text"),
    ("truncated.eaf", EAF_UNALIGNED[:400].encode(), "damaged ELAN file"),
    ("other.eaf", b"<?xml version='1.0'?><svg></svg>", "not an ELAN annotation document"),
    ("unaligned.eaf", EAF_UNALIGNED.encode(), "without times"),
    ("plain.eaf", b"1.0\t2.0\tsad\n", "not an ELAN annotation document"),
    ("binary.TextGrid", b'ooBinaryFile\x08TextGrid\x00\x00', "binary Praat file"),
    ("pitch.TextGrid", b'File type = "ooTextFile"\nObject class = "Pitch 1"\n', "not a TextGrid"),
    ("cut.TextGrid", PRAAT_LONG[:420].encode(), "damaged TextGrid"),
    ("points.TextGrid", PRAAT_LONG.replace('class = "IntervalTier"', 'class = "TextTier"').encode(),
     "only point tiers"),
    ("notagrid.TextGrid", b"hello\n", "not a Praat TextGrid"),
    ("oneword.txt", b"hello\n", "line 1 is not 'start<TAB>end<TAB>label'"),
    ("words.txt", b"0.5\tsoon\tsad\n", "not times in seconds"),
    ("backwards.txt", b"3.0\t2.0\tsad\n", "ends (2 s) before it starts (3 s)"),
    ("negative.txt", b"-2.0\t1.0\tsad\n", "starts before 0 s"),
    ("nan.txt", b"nan\t1.0\tsad\n", "not a number"),
    ("onlypoints.txt", b"1.0\t1.0\tclick\n", "holds no labels"),
    ("blank.txt", b"1.0\t2.0\t\n", "holds no labels"),
    ("overlap.txt", b"1.0\t3.0\tsad\n2.0\t4.0\tangry\n", "overlap"),
    ("toolong.txt", b"1.0\t30.0\tsad\n", "the recording lasts 12.50 s"),
    ("audio.wav", b"RIFF....WAVEfmt ", "unknown annotation format"),
    ("json.txt", json.dumps({"tiers": []}).encode(), "line 1 is not"),
]


@pytest.mark.parametrize("name, content, reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_one_line_and_nothing_changed(tmp_path, name, content, reason):
    review = Review("ef" * 32, "rec.wav", intervals=[Interval(1.0, 2.0, "calm")])
    saved = save_review(review)
    on_disk = saved.read_bytes()
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AnnotationError) as info:
        apply_to_review(review, import_tier(path, duration=12.5))
    message = str(info.value)
    assert reason in message and str(path) in message and "\n" not in message
    assert _tier(review.intervals) == [(1.0, 2.0, "calm")] and saved.read_bytes() == on_disk
    assert review_path(review.audio_sha256) == saved


def test_missing_file_and_missing_tier(tmp_path, reviewed):
    with pytest.raises(AnnotationError, match="cannot be read"):
        import_tier(tmp_path / "nowhere.TextGrid")
    tl, review = reviewed
    dest = _export(tl, review, "textgrid", tmp_path)
    with pytest.raises(AnnotationError, match=r"has no tier 'emotion' \(its tiers: 'model', 'clinician', 'info'\)"):
        import_tier(dest, "emotion")
    with pytest.raises(AnnotationError, match="holds 3 tiers"):
        import_tier(dest)


def test_empty_tier_is_refused(reviewed, tmp_path):
    tl, review = reviewed
    review.clear_all()
    dest = _export(tl, review, "eaf", tmp_path)
    with pytest.raises(AnnotationError, match="tier 'clinician' holds no labels"):
        import_tier(dest, "clinician")
