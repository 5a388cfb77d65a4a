"""The permissions of atomic writes: the app's own files private, exports as saved documents."""

import os
import stat

import pytest

from ser_engine.atomic import PRIVATE, SHARED, atomic_write_bytes, atomic_write_text, current_umask


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_the_apps_own_files_are_private_by_default(tmp_path, umask):
    atomic_write_text(tmp_path / "review.json", "{}")
    assert _mode(tmp_path / "review.json") == PRIVATE == 0o600


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_shared_files_get_what_a_saved_document_gets(tmp_path, umask, mask, expected):
    umask(mask)
    atomic_write_bytes(tmp_path / "export.csv", b"a,b\n", mode=SHARED)
    assert _mode(tmp_path / "export.csv") == expected
    with open(tmp_path / "plain.csv", "w") as fh:  # what any other program saving a file gets
        fh.write("x")
    assert _mode(tmp_path / "plain.csv") == expected


def test_replacing_a_file_gives_the_new_mode_and_leaves_no_temporary(tmp_path, umask):
    target = tmp_path / "out.csv"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new", mode=SHARED)
    assert target.read_text() == "new" and _mode(target) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_reading_the_umask_does_not_change_it(umask):
    umask(0o027)
    assert current_umask() == 0o027
    assert os.umask(0o027) == 0o027  # still what it was
