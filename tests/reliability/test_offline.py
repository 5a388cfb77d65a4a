"""Offline: analysis and training work with the network unreachable, and never even try it.

Three ways: ``socket.socket`` replaced in this process; a ``sitecustomize`` in a child process
that refuses and records every attempt to open an internet socket (local AF_UNIX pairs, which
multiprocessing uses between processes, stay allowed); and ``unshare -n`` (a process with no
network at all), where the system allows it.
"""

import json
import shutil
import socket
import subprocess
import sys

import pytest

from ser_engine import EMOTIONS
from tests.conftest import REPO, TINY, make_mini_dataset, ravdess_files, requires_data
from tests.reliability.conftest import assert_no_traceback

pytestmark = requires_data

SITECUSTOMIZE = r'''
import os, socket, traceback

_LOG = os.environ["SER_SOCKET_LOG"]
_Real = socket.socket


class _NoNetwork(_Real):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
            with open(_LOG, "a") as fh:
                fh.write("".join(traceback.format_stack()) + "\n----\n")
            raise OSError("network access blocked by the offline test")
        super().__init__(family, type, proto, fileno)


def _refuse(*args, **kwargs):
    with open(_LOG, "a") as fh:
        fh.write("".join(traceback.format_stack()) + "\n----\n")
    raise OSError("network access blocked by the offline test")


socket.socket = _NoNetwork
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def _unshare_available():
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    try:
        return subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


UNSHARE = _unshare_available()


#: Socket creations that are not network access. urllib3 (imported by TensorFlow's bundled
#: Keras 2 through ``requests``) opens an AF_INET6 socket at import time only to bind it to
#: ``::1`` and learn whether IPv6 exists; refused, it assumes not. It sends nothing.
HARMLESS = (("urllib3/util/connection.py", "in _has_ipv6"),)


def _attempts(log):
    """The recorded attempts, minus the harmless probes above."""
    entries = [e for e in log.read_text().split("\n----\n") if e.strip()]
    return [e for e in entries if not any(all(part in e for part in h) for h in HARMLESS)]


def _offline_env(tmp_path):
    site = tmp_path / "offline-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "socket-attempts.log"
    log.touch()
    import os

    env = dict(os.environ, SER_SOCKET_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")]))
    return env, log


def _run(cmd, env, *, unshare=False, timeout=600):
    if unshare:
        cmd = ["unshare", "-n", *cmd]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_blocking_really_blocks(tmp_path):
    env, log = _offline_env(tmp_path)
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept OSError as e:\n    print(e)"
    proc = _run([sys.executable, "-c", code], env)
    assert "blocked by the offline test" in proc.stdout
    assert log.read_text(), "the attempt was recorded"


def test_predictor_in_process_with_sockets_blocked(monkeypatch):
    from ser_engine.predictor import Predictor

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access blocked by the offline test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from ser_engine.segments import analyse_recording

    predictor, _ = Predictor.from_path()
    path = ravdess_files([8], emotions=[5], per_emotion=1)[0]
    result = predictor.predict_file(path)
    timeline = analyse_recording(predictor, path)  # what the window and `ser batch` run
    assert result.label in EMOTIONS and timeline.label in EMOTIONS and attempts == []


@pytest.mark.parametrize("unshare", [False, pytest.param(True, marks=pytest.mark.skipif(
    not UNSHARE, reason="unshare -n is not available or not permitted here"))], ids=["sockets-blocked", "unshare-n"])
def test_ser_predict_offline(tmp_path, unshare):
    env, log = _offline_env(tmp_path)
    files = [str(f) for f in ravdess_files([8], emotions=[3, 6], per_emotion=1)]
    proc = _run([sys.executable, "-m", "ser_engine.cli", "predict", "--json", *files], env, unshare=unshare)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [json.loads(line)["label"] in EMOTIONS for line in proc.stdout.splitlines()] == [True, True]
    attempts = _attempts(log)
    assert attempts == [], "something tried to open a network socket:\n" + "\n".join(attempts)[-3000:]


TRAIN = """
import sys
from pathlib import Path
from training.config import TrainConfig
from training.pipeline import run_training
from ser_engine.bundle import load_bundle
root = Path(sys.argv[1])
cfg = TrainConfig.quick(**{tiny})
out = run_training(root / "data", root / "out", cfg, cache_root=root / "cache", model_id="offline-test")
print("BUNDLE", load_bundle(out.bundle_dir).model_id)
"""


@pytest.mark.slow
def test_training_offline(tmp_path):
    """A tiny training run (2 actors) with internet sockets refused and recorded, inside
    ``unshare -n`` too where the system allows it."""
    make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    env, log = _offline_env(tmp_path)
    # no augmented copies: what is checked is that nothing reaches the network, not the copies
    tiny = {**TINY, "speeds": (), "noise_snrs": ()}
    proc = _run([sys.executable, "-c", TRAIN.format(tiny=repr(tiny)), str(tmp_path)], env, unshare=UNSHARE)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "BUNDLE offline-test" in proc.stdout
    attempts = _attempts(log)
    assert attempts == [], "something tried to open a network socket:\n" + "\n".join(attempts)[-3000:]
