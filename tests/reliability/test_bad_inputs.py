"""Every kind of bad input through ``load_audio``, ``ser predict`` (plain and ``--segments``) and
``ser batch`` (real processes); the window's queue is in test_gui_queue.py. Each file gets a
one-line reason naming it, or a label ("no speech" for silence and noise where the analysis has
that answer); never a traceback or a hang, and the good files of the same run get the answers
they get alone."""

import json
import shutil

import numpy as np
import pytest

from ser_engine import EMOTIONS
from ser_engine.audio import load_audio
from ser_engine.errors import AudioLoadError
from ser_engine.results import NO_SPEECH
from tests.conftest import SPEECH_16K, ravdess_files, requires_data
from tests.reliability.badinputs import CASES, FILE_CASES, build_all, write_long_flac
from tests.reliability.conftest import assert_no_traceback, run_ser

REFUSED = [c for c in CASES if c.refused]
LABELLED = [c for c in CASES if not c.refused]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_load_audio(tmp_path, case):
    path = case.build(tmp_path)
    if case.refused:
        with pytest.raises(AudioLoadError) as err:
            load_audio(path)
        message = str(err.value)
        assert message.startswith(f"{path}: ") and case.reason in message and "\n" not in message
        assert message.count(str(path)) == 1
    else:
        y = load_audio(path)
        assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
        assert len(y) >= 0.1 * 16000


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Every case plus two real recordings, in a folder whose name has spaces and accents."""
    if not SPEECH_16K.is_dir():
        pytest.skip("RAVDESS data not found")
    folder = tmp_path_factory.mktemp("bad") / "Séance du lundi – été"
    paths = build_all(folder)
    good = []
    for src in ravdess_files([4], emotions=[5, 6], per_emotion=1):
        good.append(folder / src.name)
        shutil.copy(src, good[-1])
    return folder, paths, good


def _rows(stdout):
    rows = {}
    for line in stdout.splitlines():
        if not line.startswith(" "):  # segment lines are indented
            path, label, rest = line.split("\t", 2)
            rows[path] = (label, rest)
    return rows


@requires_data
def test_ser_predict_reports_each_bad_file_on_one_line_and_labels_the_rest(mixed_folder, tmp_path):
    folder, paths, good = mixed_folder
    files = [good[0]] + [paths[c.name] for c in CASES] + [good[1]]
    proc = run_ser(["predict", *files], cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 2, "some files failed: exit status 2"
    rows = _rows(proc.stdout)
    for case in CASES:
        path = str(paths[case.name])
        if case.kind == "directory named x.wav":
            # a folder is walked for audio files, like any folder: this one holds none
            assert path not in rows
        elif case.refused:
            label, reason = rows[path]
            assert label == "ERROR" and case.reason in reason, (case.kind, reason)
        else:
            label, _ = rows[path]
            assert label in EMOTIONS if case.speech else label == NO_SPEECH, (case.kind, label)
    # the good files: the same answers as in a run of their own
    alone = _rows(run_ser(["predict", *good], cwd=tmp_path).stdout)
    for g in good:
        assert rows[str(g)] == alone[str(g)]
        assert rows[str(g)][0] in EMOTIONS


def _predict_files(mixed_folder, tmp_path, flag):
    """``ser predict FLAG`` on every bad file, then the good ones: (paths, files, process)."""
    _, paths, good = mixed_folder
    files = [paths[c.name] for c in FILE_CASES] + good
    proc = run_ser(["predict", flag, *files], cwd=tmp_path)
    assert_no_traceback(proc)
    return paths, files, proc


@requires_data
def test_ser_predict_json_keeps_one_object_per_file(mixed_folder, tmp_path):
    paths, files, proc = _predict_files(mixed_folder, tmp_path, "--json")
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["path"] for o in objects] == [str(f) for f in files]
    for case in FILE_CASES:
        obj = next(o for o in objects if o["path"] == str(paths[case.name]))
        if case.refused:
            assert case.reason in obj["error"] and "\n" not in obj["error"]
        elif case.speech:
            assert obj["label"] in EMOTIONS and abs(sum(obj["probabilities"].values()) - 1) < 1e-3
        else:
            assert obj["label"] == NO_SPEECH and obj["probabilities"] == {}, case.kind


def test_ser_predict_on_a_folder_named_like_a_file_says_there_is_no_audio(tmp_path):
    d = tmp_path / "x.wav"
    d.mkdir()
    proc = run_ser(["predict", d], cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"ser: no audio files found in {d}"


def test_ser_predict_with_the_speaker_baseline_survives_the_bad_files(mixed_folder, tmp_path):
    folder, paths, good = mixed_folder
    proc = run_ser(["predict", "--speaker-baseline", folder], cwd=tmp_path)
    assert_no_traceback(proc)
    rows = _rows(proc.stdout)
    for case in FILE_CASES:
        label, rest = rows[str(paths[case.name])]
        if case.refused:
            assert label == "ERROR" and case.reason in rest, case.kind
        else:
            assert label in EMOTIONS if case.speech else label == NO_SPEECH, case.kind
    assert all(rows[str(g)][0] in EMOTIONS for g in good)


@requires_data
def test_ser_predict_segments_says_no_speech_for_silence_and_noise(mixed_folder, tmp_path):
    """``--segments`` (the long-recording analysis, which the window and ``ser batch`` use too)."""
    paths, files, proc = _predict_files(mixed_folder, tmp_path, "--segments")
    good = files[len(FILE_CASES):]
    assert proc.returncode == 2
    rows = _rows(proc.stdout)
    for case in FILE_CASES:
        label, rest = rows[str(paths[case.name])]
        if case.refused:
            assert label == "ERROR" and case.reason in rest, (case.kind, rest)
        elif case.speech:
            assert label in EMOTIONS, (case.kind, label)
        else:
            assert label == NO_SPEECH, (case.kind, label)
    assert all(rows[str(g)][0] in EMOTIONS for g in good)


def _batch_json(stdout_file):
    return {o["path"]: o for o in map(json.loads, stdout_file.read_text(encoding="utf-8").splitlines())}


@requires_data
def test_ser_batch_lists_every_bad_file_with_its_reason_and_labels_the_rest(mixed_folder, tmp_path):
    folder, paths, good = mixed_folder
    out = tmp_path / "results.jsonl"
    proc = run_ser(["batch", folder, "--out", out, "--format", "json", "--no-progress"], cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 2, proc.stderr[-2000:]
    refused = [c for c in FILE_CASES if c.refused]
    assert f"{len(CASES) - 1 - len(refused) + len(good)} analysed" in proc.stderr
    assert f"{len(refused)} failed" in proc.stderr
    objects = _batch_json(out)
    assert str(paths["x.wav"]) not in objects, "a folder is walked for audio, not analysed as a file"
    assert len(objects) == len(CASES) - 1 + len(good)
    for case in FILE_CASES:
        obj = objects[str(paths[case.name])]
        if case.refused:
            assert case.reason in obj["error"] and "\n" not in obj["error"], (case.kind, obj["error"])
        elif case.speech:
            assert obj["label"] in EMOTIONS, (case.kind, obj["label"])
        else:
            # no speech: the same answer as ``ser predict`` gives, and no speech time
            assert obj["label"] == NO_SPEECH and obj["summary"]["speech_seconds"] == 0, case.kind
    # the good files: what a batch of their own says
    alone_folder = tmp_path / "alone"
    alone_folder.mkdir()
    for g in good:
        shutil.copy(g, alone_folder / g.name)
    run_ser(["batch", alone_folder, "--out", tmp_path / "alone.jsonl", "--format", "json", "--no-progress"],
            cwd=tmp_path)
    alone = _batch_json(tmp_path / "alone.jsonl")
    for g in good:
        mine, theirs = objects[str(g)], alone[str(alone_folder / g.name)]
        assert mine["label"] == theirs["label"] in EMOTIONS
        assert mine["segments"] == theirs["segments"]
    # a second run resumes: nothing analysed twice, nothing lost, still no traceback
    again = run_ser(["batch", folder, "--out", out, "--format", "json", "--no-progress"], cwd=tmp_path)
    assert_no_traceback(again)
    assert _batch_json(out) == objects


@requires_data
def test_ser_batch_csv_has_an_error_row_per_bad_file(mixed_folder, tmp_path):
    import csv

    folder, paths, good = mixed_folder
    out = tmp_path / "résultats lundi.csv"
    proc = run_ser(["batch", folder, "--out", out, "--no-progress"], cwd=tmp_path)
    assert_no_traceback(proc)
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for case in FILE_CASES:
        mine = [r for r in rows if r["file"] == str(paths[case.name])]
        if case.refused:
            assert len(mine) == 1 and mine[0]["row"] == "error" and case.reason in mine[0]["error"], case.kind
        else:
            assert mine and all(r["row"] != "error" for r in mine), case.kind
            segment_labels = {r["label"] for r in mine if r["row"] == "segment"}
            if case.speech:
                assert segment_labels & set(EMOTIONS), case.kind
            else:
                assert segment_labels <= {NO_SPEECH}, case.kind


@pytest.mark.parametrize("name", ["new results.csv", "earlier results.csv"])
def test_ser_batch_into_a_read_only_folder_says_why_in_one_line(tmp_path, readonly_dir, name):
    import soundfile as sf

    from tests.reliability.badinputs import voice_like

    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "one.wav", voice_like(1.0), 16000)
    before = {p.name: p.read_bytes() for p in readonly_dir.iterdir()}
    proc = run_ser(["batch", folder, "--out", readonly_dir / name, "--no-progress"], cwd=tmp_path, timeout=120)
    assert_no_traceback(proc)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ser: ") and str(readonly_dir) in last, proc.stderr[-1500:]
    assert {p.name: p.read_bytes() for p in readonly_dir.iterdir()} == before, "the folder is untouched"


@pytest.mark.parametrize("kind", ["pure silence", "pure noise"])
def test_plain_predict_does_not_give_silence_or_noise_a_confident_emotion(tmp_path, kind):
    from ser_engine.predictor import Predictor

    predictor, _ = Predictor.from_path()
    result = predictor.predict_file(next(c for c in CASES if c.kind == kind).build(tmp_path))
    assert result.label == NO_SPEECH and result.probabilities == {}
    assert result.to_dict()["segments"] == [{"start": 0.0, "end": round(result.duration, 3), "label": NO_SPEECH,
                                             "confidence": None, "uncertain": False, "probabilities": {}}]


@pytest.mark.slow
def test_a_two_hour_recording_is_labelled_in_bounded_time_and_memory(tmp_path):
    import resource

    # silence with one second of voice at the start of every minute: the last at 7140-7141 s
    path = write_long_flac(tmp_path / "two hours.flac", hours=2.0)
    # `predict` and `predict --segments` are one path now (tests/ser_engine/test_one_path.py): one run
    proc = run_ser(["predict", "--json", "--segments", path], cwd=tmp_path, timeout=900)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["label"] in EMOTIONS and result["duration"] == pytest.approx(7200, abs=0.01)
    # a timeline covers the file end to end; most of it is no speech; its last speech is the last voice
    assert result["segments"][0]["start"] == 0 and result["segments"][-1]["end"] == pytest.approx(7200)
    assert result["segments"][-1]["label"] == NO_SPEECH
    assert result["summary"]["no_speech_seconds"] > 0.9 * 7200
    speech = [s for s in result["segments"] if s["label"] != NO_SPEECH]
    assert speech[-1]["end"] == pytest.approx(7141, abs=1.5)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2 ** 20  # GiB (Linux: KiB)
    assert peak < 6, f"{peak:.1f} GiB for two hours of audio"


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.kind for c in FILE_CASES])
def test_ser_report_on_a_bad_file_says_why_in_one_line_and_writes_nothing(case, tmp_path):
    path = case.build(tmp_path)
    out = tmp_path / "report.pdf"
    proc = run_ser(["report", path, "--out", out], cwd=tmp_path)
    assert_no_traceback(proc)
    if case.refused:
        assert proc.returncode != 0 and not out.exists()
        last = proc.stderr.strip().splitlines()[-1]
        assert str(path) in last and case.reason in last, (case.kind, last)
    else:  # silence and noise: a report that says "no speech"
        assert proc.returncode == 0 and out.stat().st_size > 1000, (case.kind, proc.stderr[-500:])


@pytest.mark.parametrize("case", [c for c in FILE_CASES if c.refused][:6], ids=lambda c: c.kind)
def test_ser_predict_with_a_bad_reference_says_why_in_one_line(case, mixed_folder, tmp_path):
    _, _, good = mixed_folder
    proc = run_ser(["predict", "--reference", case.build(tmp_path), good[0]], cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and case.reason in proc.stderr
