"""`ser batch`: a folder into one CSV/JSON or a folder of exports; resumes, never stops on a bad file."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from ser_engine.batch import ERRORS_FILE, run_batch
from ser_engine.errors import ExportError
from ser_engine.cli import main
from ser_engine.results import NO_SPEECH
from tests.conftest import REPO, ravdess_files, requires_data
from tests.ser_engine.long_fixtures import long_recording, shipped_predictor  # noqa: F401 (fixtures)

pytestmark = requires_data


@pytest.fixture
def folder(tmp_path, long_recording):  # noqa: F811
    d = tmp_path / "queue"
    (d / "day 2").mkdir(parents=True)
    for p in ravdess_files([4], emotions=[3, 5], per_emotion=1):
        shutil.copy(p, d / p.name)
    shutil.copy(long_recording.path, d / "day 2" / "session.wav")
    (d / "day 2" / "broken.wav").write_text("this is text")
    return d


def _complete_files(out):
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    ends = Counter(r["file"] for r in rows
                   if (r["row"] == "summary" and r["label"] == NO_SPEECH) or r["row"] == "error")
    return rows, ends


def test_csv_batch_reports_bad_files_and_resumes_without_duplicates(folder, tmp_path):
    out = tmp_path / "all.csv"
    seen = []

    def interrupt(path, result):
        seen.append(path)
        if len(seen) == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl+C after two files

    with pytest.raises(KeyboardInterrupt):
        run_batch(folder, out, progress=False, on_file=interrupt)
    _, ends = _complete_files(out)
    assert len(ends) == 2
    report = run_batch(folder, out, progress=False)
    assert (report.total, report.skipped, report.done, report.failed) == (4, 2, 1, 1)
    rows, ends = _complete_files(out)
    assert sorted(ends.values()) == [1, 1, 1, 1]  # every file once
    errors = [r for r in rows if r["row"] == "error"]
    assert len(errors) == 1 and errors[0]["file"].endswith("broken.wav")
    assert "not a readable audio file" in errors[0]["error"] and "\n" not in errors[0]["error"]
    # the same as one uninterrupted run
    clean = tmp_path / "clean.csv"
    run_batch(folder, clean, progress=False)
    key = (lambda r: (r["file"], r["row"], r["start"], r["label"]))
    assert sorted(map(key, rows)) == sorted(map(key, csv.DictReader(open(clean, encoding="utf-8"))))
    # nothing left to do
    again = run_batch(folder, out, progress=False)
    assert (again.skipped, again.done) == (4, 0)


def test_a_torn_record_is_dropped_on_resume(folder, tmp_path):
    out = tmp_path / "all.csv"
    run_batch(folder, out, progress=False)
    text = out.read_text(encoding="utf-8")
    head, body = text.split("\n", 1)
    lines = body.splitlines(keepends=True)
    last_file = lines[-1].split(",")[0]
    # a crash half-way through writing the last file's record
    kept = [ln for ln in lines if not ln.startswith(last_file + ",")]
    partial = [ln for ln in lines if ln.startswith(last_file + ",")]
    out.write_text(head + "\n" + "".join(kept) + "".join(partial[:1]) + partial[1][:20], encoding="utf-8")
    report = run_batch(folder, out, progress=False)
    assert report.done + report.failed == 1
    _, ends = _complete_files(out)
    assert sorted(ends.values()) == [1, 1, 1, 1]
    assert out.read_text(encoding="utf-8") == text


def test_json_lines_and_workers(folder, tmp_path):
    out = tmp_path / "all.json"
    code = main(["batch", str(folder), "--out", str(out), "--workers", "2", "--no-progress"])
    assert code == 2  # one bad file
    objs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(objs) == 4 and len({o["path"] for o in objs}) == 4
    bad = [o for o in objs if "error" in o]
    assert len(bad) == 1 and set(bad[0]) == {"path", "error"}
    good = [o for o in objs if "error" not in o]
    assert all(o["model"]["id"] and o["segments"] and "summary" in o for o in good)
    one = tmp_path / "one.json"
    assert main(["batch", str(folder), "--out", str(one), "--no-progress"]) == 2
    strip = (lambda o: {k: v for k, v in o.items() if k != "exported_by"})
    assert [strip(json.loads(x)) for x in one.read_text().splitlines()] == [strip(o) for o in objs]
    assert main(["batch", str(folder), "--out", str(out), "--no-progress"]) == 0  # all done before
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_per_file_formats_mirror_the_folders_and_resume(folder, tmp_path):
    out = tmp_path / "grids"
    report = run_batch(folder, out, fmt="textgrid", progress=False)
    assert (report.done, report.failed) == (3, 1)
    grid = out / "day 2" / "session.TextGrid"
    assert grid.exists() and len(list(out.rglob("*.TextGrid"))) == 3
    errors = list(csv.DictReader(open(out / ERRORS_FILE, encoding="utf-8")))
    assert len(errors) == 1 and errors[0]["file"].endswith("broken.wav")
    stamp = grid.stat().st_mtime_ns
    again = run_batch(folder, out, fmt="textgrid", progress=False)
    assert (again.skipped, again.done, again.failed) == (4, 0, 0) and grid.stat().st_mtime_ns == stamp
    aud = run_batch(folder, tmp_path / "labels", fmt="audacity", progress=False)
    assert aud.done == 3 and (tmp_path / "labels" / "day 2" / "session.clinician.txt").exists()


def test_out_must_fit_the_format(folder, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    assert main(["batch", str(folder), "--out", str(tmp_path / "file.txt"), "--format", "eaf"]) == 1
    assert "must be a folder" in capsys.readouterr().err
    assert main(["batch", str(folder), "--out", str(tmp_path), "--format", "csv"]) == 1
    assert main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "x.csv")]) == 2
    capsys.readouterr()
    # an output that cannot be created (here: beneath a file) is one line, not a traceback
    assert main(["batch", str(folder), "--out", str(tmp_path / "file.txt" / "new.csv"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ser: ") and "new.csv: cannot be written" in err and "\n" not in err


def test_a_killed_batch_resumes_without_duplicates(tmp_path, long_recording):  # noqa: F811
    d = tmp_path / "many"
    d.mkdir()
    for i in range(8):
        shutil.copy(long_recording.path, d / f"s{i}.wav")
    out = tmp_path / "all.csv"
    cmd = [sys.executable, "-m", "ser_engine.cli", "batch", str(d), "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and _complete_files(out)[1]:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    _, ends = _complete_files(out)
    assert 1 <= len(ends) < 8  # killed part-way (the first record is written within ~1 s of 8)
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(ends)} already in" in done.stderr
    _, ends = _complete_files(out)
    assert len(ends) == 8 and set(ends.values()) == {1}


def test_a_json_file_that_is_not_a_batch_output_is_refused_not_rewritten(folder, tmp_path):
    out = tmp_path / "notes.json"
    text = json.dumps({"path": "x.wav", "comment": "a clinician's own file"}, indent=2) + "\n"
    out.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match="not the output of an earlier `ser batch`"):
        run_batch(folder, out, fmt="json", progress=False)
    assert out.read_text(encoding="utf-8") == text  # before: reduced to the new records


def test_recordings_sharing_a_stem_get_their_own_exports(tmp_path):
    src = ravdess_files([4], emotions=[3, 5], per_emotion=1)
    d = tmp_path / "pair"
    d.mkdir()
    shutil.copy(src[0], d / "a.flac")
    shutil.copy(src[1], d / "a.wav")
    shutil.copy(src[1], d / "b.wav")
    out = tmp_path / "grids"
    report = run_batch(d, out, fmt="textgrid", progress=False)
    assert report.done == 3  # before: a.wav and a.flac both wrote a.TextGrid, and a resume skipped one
    assert sorted(p.name for p in out.iterdir()) == ["a.flac.TextGrid", "a.wav.TextGrid", "b.TextGrid"]
    assert run_batch(d, out, fmt="textgrid", progress=False).skipped == 3


def test_a_batch_output_gets_a_saved_documents_permissions(tiny_bundle, tmp_path):
    """Like every other export (0666 less the umask), not the app's private 0600."""
    import os
    import shutil
    import stat

    from ser_engine.batch import run_batch
    from tests.conftest import ravdess_files

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ravdess_files([2], emotions=[5], per_emotion=1)[0], folder)
    old = os.umask(0o022)
    try:
        run_batch(folder, tmp_path / "out.csv", model=tiny_bundle, progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o644
