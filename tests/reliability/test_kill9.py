"""Nothing lost: a real writer process is SIGKILLed at each point of a bundle write, a bare atomic
text write, a CSV export and a clinician review save; the previous version is intact and loads,
and the leftovers of the killed writer neither confuse nor outlive the next start."""

import json
import os
import signal
import subprocess
import sys

import pytest

from ser_engine.atomic import atomic_write_text
from ser_engine.bundle import load_bundle
from ser_engine.models import resolve_bundle, set_active
from tests.conftest import REPO
from tests.reliability._writer import AUDIO_SHA256, BUNDLE_STAGES, TEXT_STAGES

#: (mode, stage, the version that must be at the destination after the kill)
KILL_POINTS = ([("bundle", s, "new" if s == "after-swap" else "old") for s in BUNDLE_STAGES]
               + [(mode, s, "new" if s == "after-rename" else "old") for mode in ("text", "export", "review")
                  for s in TEXT_STAGES])
DEST = {"bundle": "my model", "text": "results.csv", "export": "session 1.csv", "review": f"{AUDIO_SHA256}.json"}
TIMEOUT = 120


def _writer(mode, stage, dest, tag):
    return subprocess.Popen([sys.executable, "-m", "tests.reliability._writer", mode, stage, str(dest), tag],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _write(mode, dest, tag):
    proc = _writer(mode, "none", dest, tag)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0 and out.strip().endswith("DONE"), err[-2000:]


def _kill_at(mode, stage, dest, tag):
    proc = _writer(mode, stage, dest, tag)
    try:
        line = _readline(proc)
        assert line == f"AT {stage}", (line, proc.stderr.read()[-2000:] if proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _readline(proc):
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout=TIMEOUT):
        raise AssertionError("the writer never reached its stage")
    return proc.stdout.readline().strip()


def _siblings(dest):
    return sorted(p.name for p in dest.parent.iterdir() if p.name != dest.name)


def _tag(mode, dest):
    """The TAG of the version at ``dest``, read the way the app reads it (a half-written or
    mixed file fails here)."""
    if mode == "bundle":
        return load_bundle(dest).card.strip().lstrip("# ")
    if mode == "review":
        from ser_engine.review import load_review

        review = load_review(sha256=AUDIO_SHA256, path=dest)
        assert len(review.intervals) == 2000
        return review.audio_name.removesuffix(".wav")
    text = dest.read_text(encoding="utf-8")
    assert text.endswith("\n"), "a half-written file"
    if mode == "export":
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(text)))
        assert sum(r["row"] == "segment" for r in rows) == 3000
        tags = {r["model_id"].removeprefix("kill-test-") for r in rows}
    else:
        tags = {line.split(",")[0] for line in text.splitlines()}
    assert len(tags) == 1, "a mixture of two versions"
    return tags.pop()


@pytest.mark.parametrize("mode, stage, survivor", KILL_POINTS, ids=[f"{m}-{s}" for m, s, _ in KILL_POINTS])
def test_kill_9_loses_nothing(tmp_path, mode, stage, survivor):
    folder = tmp_path / "user data"
    folder.mkdir()
    dest = folder / DEST[mode]
    _write(mode, dest, "old")
    if mode == "bundle":
        set_active(dest)
    _kill_at(mode, stage, dest, "new")

    # the next start: the active model (or the file) is a complete version, never a mixture
    if mode == "bundle":
        bundle, warning = resolve_bundle()
        assert warning is None and bundle.source == dest
        assert bundle.model_id == f"kill-test-{survivor}"
    assert _tag(mode, dest) == survivor
    # the killed writer's temporaries are hidden (dot-names) and removed by the next write
    assert all(name.startswith(".") for name in _siblings(dest))
    if mode == "text":
        atomic_write_text(dest, "next,0\n")
    else:
        _write(mode, dest, "next")
    assert _tag(mode, dest) == "next"
    assert _siblings(dest) == [], "litter left after the next write"


def test_a_live_writers_temporaries_are_not_removed(tmp_path):
    from ser_engine.atomic import remove_stale_temporaries

    dest = tmp_path / "results.csv"
    mine = tmp_path / f".results.csv.{os.getpid()}.abcd1234.tmp"
    mine.write_text("being written")
    dead = tmp_path / ".results.csv.999999999.abcd1234.tmp"  # no such process
    dead.write_text("left by a killed writer")
    other = tmp_path / ".other.csv.999999999.abcd1234.tmp"
    other.write_text("another file's")
    assert remove_stale_temporaries(dest) == [dead]
    assert mine.exists() and other.exists() and not dead.exists()


def test_recover_directory_restores_a_folder_caught_between_the_renames(tmp_path):
    from ser_engine.atomic import recover_directory

    dest = tmp_path / "model"
    backup = tmp_path / ".model.old-999999999"
    backup.mkdir()
    (backup / "manifest.json").write_text(json.dumps({"old": True}))
    assert recover_directory(dest) is True
    assert json.loads((dest / "manifest.json").read_text()) == {"old": True} and not backup.exists()
    assert recover_directory(dest) is False
