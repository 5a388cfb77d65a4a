"""Shared helpers of the reliability suite: running ``ser`` as a real process, and a folder
that really cannot be written (even by root, who ignores permission bits)."""

import contextlib
import os
import subprocess
import sys

import pytest


#: Generous limits: a hang fails the test instead of hanging the suite.
PROCESS_TIMEOUT = 300


def run_ser(args, *, cwd, timeout=PROCESS_TIMEOUT, env=None):
    """``ser ARGS`` as a separate process (the installed entry point's module)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "ser_engine.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def assert_no_traceback(proc):
    for stream in (proc.stdout, proc.stderr):
        assert "Traceback" not in stream and "Fatal Python error" not in stream, stream[-3000:]


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder writes into fail. Permission bits for a normal user; for root (who ignores
    them), a read-only bind mount of the folder on itself; skipped if neither is possible."""
    d = tmp_path / "read only outputs"
    d.mkdir()
    (d / "earlier results.csv").write_text("file,label\nold.wav,calm\n", encoding="utf-8")
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    mount = ["mount", "--bind", str(d), str(d)]
    remount = ["mount", "-o", "remount,bind,ro", str(d)]
    try:
        subprocess.run(mount, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("running as root and cannot make a read-only mount: no folder root cannot write")
    try:
        subprocess.run(remount, check=True, capture_output=True, timeout=30)
        yield d
    except (OSError, subprocess.SubprocessError):
        pytest.skip("running as root and cannot remount read-only")
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["umount", str(d)], check=True, capture_output=True, timeout=30)

