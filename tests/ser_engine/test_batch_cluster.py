"""`ser batch` on a Dask cluster: a real scheduler and real worker processes on loopback.

A LocalCluster of worker processes for most tests; a cluster started with Dask's own command
line (``dask scheduler``, ``dask worker``) where the point is that the CLI works against one.
A worker that cannot read what the client reads runs in its own mount namespace
(``unshare -r -m``) with an empty tmpfs over the folder it must not see: a machine without
the shared storage.
"""

import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from ser_engine.batch import run_batch
from ser_engine.cli import main
from tests.conftest import REPO, ravdess_files, requires_data
from tests.ser_engine.long_fixtures import long_recording, shipped_predictor  # noqa: F401 (fixtures)

pytestmark = requires_data

DASK = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")


def _unshare_mount_available():
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    try:
        probe = subprocess.run([unshare, "-r", "-m", "sh", "-c", "mount -t tmpfs none /mnt && echo ok"],
                               capture_output=True, text=True, timeout=30)
        return probe.stdout.strip() == "ok"
    except (OSError, subprocess.SubprocessError):
        return False


UNSHARE = _unshare_mount_available()


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")


def _start_local_cluster():
    """Two worker processes (one thread each) and a scheduler, on loopback, and a client."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.CRITICAL,
                           scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
    return cluster, Client(cluster, set_as_default=False)


@pytest.fixture(scope="module")
def local_cluster():
    cluster, client = _start_local_cluster()
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture
def folder(tmp_path):
    """Two actors' clips in two folders, and a file that is not audio."""
    d = tmp_path / "queue"
    for actor in (4, 8):
        sub = d / f"Actor_{actor:02d}"
        sub.mkdir(parents=True)
        for p in ravdess_files([actor], emotions=[1, 3, 5], per_emotion=1):
            shutil.copy(p, sub / p.name)
    (d / "Actor_08" / "broken.wav").write_text("this is text")
    return d


def _records(out):
    """The JSON journal, without the line that names the software version and time."""
    lines = out.read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(x).items() if k != "exported_by"} for x in lines]


def test_a_cluster_writes_what_one_process_writes(folder, tmp_path, local_cluster):
    cluster, client = local_cluster
    local = run_batch(folder, tmp_path / "local.json", fmt="json", progress=False)
    dist = run_batch(folder, tmp_path / "dask.json", fmt="json", progress=False, scheduler=cluster.scheduler_address)
    assert (dist.total, dist.done, dist.failed, dist.retried) == (local.total, local.done, local.failed, 0) == (7, 6, 1, 0)
    assert _records(tmp_path / "dask.json") == _records(tmp_path / "local.json")  # same rows, same order
    assert [f.error for f in dist.failures] == [f.error for f in local.failures]
    # each worker loaded the model once, however many recordings it analysed
    loads = client.run(lambda dask_worker: {n: p.loads for n, p in dask_worker.plugins.items() if n.startswith("ser-")})
    assert sorted(v for per in loads.values() for v in per.values()) == [1, 1]
    # and runs its runtimes on one core, as Dask's nanny says (OMP_NUM_THREADS=1): two workers
    # asking for two threads each ran 2 workers at 1.5x one worker on this 2-core machine
    threads = client.run(lambda dask_worker: [p.threads for n, p in dask_worker.plugins.items() if n.startswith("ser-")])
    assert sorted(v for per in threads.values() for v in per) == [1, 1]
    # the same CSV too, and a second run resumes: nothing to do
    run_batch(folder, tmp_path / "local.csv", progress=False)
    run_batch(folder, tmp_path / "dask.csv", progress=False, scheduler=cluster.scheduler_address)
    assert (tmp_path / "dask.csv").read_text() == (tmp_path / "local.csv").read_text()
    again = run_batch(folder, tmp_path / "dask.csv", progress=False, scheduler=cluster.scheduler_address)
    assert (again.skipped, again.done) == (7, 0)


def test_one_long_recording_is_spread_over_the_idle_workers_with_the_same_result(tmp_path):
    """A recording is one task: an hour-long one kept one of two workers busy for the whole batch
    (0.99x one worker, BENCHMARKS.md). Its features and encoder groups now go to idle workers."""
    from ser_engine.batch_cluster import SPREAD_MIN_SPEECH_S
    from ser_engine.encoder import GROUP_CHUNKS
    from tests.conftest import SPEECH_16K
    from tests.ser_engine.long_fixtures import build_long_recording

    clips = ravdess_files([4, 8], per_emotion=3)  # 48 utterances, 74 s of speech: 48 chunks, three groups
    folder = tmp_path / "one"
    folder.mkdir()
    rec = build_long_recording(folder / "session.wav", clips=[(str(c.relative_to(SPEECH_16K)), "?") for c in clips],
                               pause=1.0)
    assert sum(b - a for a, b, _ in rec.speech) > SPREAD_MIN_SPEECH_S and len(clips) > GROUP_CHUNKS
    cluster, client = _start_local_cluster()
    try:
        run_batch(folder, tmp_path / "dask.json", fmt="json", progress=False, scheduler=cluster.scheduler_address)
        counts = client.run(lambda dask_worker: [(p.spread_recordings, p.groups_encoded)
                                                 for n, p in dask_worker.plugins.items() if n.startswith("ser-")][0])
    finally:
        client.close()
        cluster.close()
    assert sum(s for s, _ in counts.values()) == 1  # the recording was spread
    assert sum(g for _, g in counts.values()) == -(-len(clips) // GROUP_CHUNKS)  # each of its groups once
    run_batch(folder, tmp_path / "local.json", fmt="json", progress=False)
    assert _records(tmp_path / "dask.json") == _records(tmp_path / "local.json")


@pytest.mark.parametrize(("speech_s", "idle", "asked"), [(59.0, ["tcp://b"], False), (600.0, [], True)])
def test_a_recording_is_analysed_where_it_is_when_short_or_when_no_worker_is_idle(monkeypatch, speech_s, idle, asked):
    """Spreading borrows only idle workers: in a batch with more recordings than workers a
    seceded task would let its worker start a second recording and hold both in memory."""
    from ser_engine import batch_cluster as bc

    calls = []
    monkeypatch.setattr(bc, "idle_workers", lambda: calls.append(1) or idle)
    plugin = type("P", (), {"spread_recordings": 0, "name": "ser-x"})()
    with bc.ClusterSpreader(plugin).spread(speech_s) as spread:
        assert spread is None
    assert (bool(calls), plugin.spread_recordings) == (asked, 0)


def test_local_workers_keep_the_systems_memory_allocator_settings(monkeypatch):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in each worker, which turns off glibc's
    adaptive mmap threshold: a 10-minute recording took 31 s on a worker instead of 19 s.
    (A nanny also writes it into its own process's environment, which later workers inherit:
    another test's LocalCluster must not decide this one.)"""
    from ser_engine.cluster import open_client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)

    with open_client(workers=1) as client:
        env = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")))
        profiling = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert list(env.values()) == [(None, "1")]  # Dask's thread settings stay
    assert list(profiling.values()) == [False]  # no stack samples for a dashboard nobody sees


@pytest.mark.parametrize(("omp", "threads"), [(None, 1), ("1", 1), ("4", 4), ("0", 1), ("many", 1)])
def test_a_workers_runtimes_take_dasks_thread_setting(monkeypatch, omp, threads):
    from ser_engine.batch_cluster import runtime_threads

    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert runtime_threads() == threads


@pytest.mark.parametrize("omp", ["1", "3"])
def test_a_workers_features_take_the_same_thread_setting_as_its_runtimes(monkeypatch, omp):
    """README: set OMP_NUM_THREADS higher for workers with cores to themselves. The features ran
    on one thread whatever it said (the client fixed them), so a long recording on such a worker
    left its cores idle for most of its analysis."""
    from ser_engine.batch_cluster import worker_config
    from ser_engine.segments import SegmentConfig

    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    config = SegmentConfig(speakers=2)
    assert worker_config(config) == dataclasses.replace(config, feature_threads=int(omp))


def test_a_stream_refuses_a_keyword_argument_dask_would_key_by_its_name():
    """Over 100 kB, Dask ships a keyword argument of ``Client.map`` as a task keyed by the
    argument's name; two streams passing it collide (a 600-clip training failed so)."""
    from ser_engine.cluster import TaskStream

    heavy = {f"Actor_{i:02d}/clip-{i}.wav": np.zeros(100, np.float32) for i in range(300)}
    with pytest.raises(ValueError, match="keyword argument recs is over 100000 bytes; scatter it"):
        list(TaskStream(object(), len, [1], name="probe", recs=heavy))


def test_workers_option_starts_a_local_cluster_and_shows_the_progress_bar(folder, tmp_path):
    out = tmp_path / "w2.json"
    proc = subprocess.run([sys.executable, "-m", "ser_engine.cli", "batch", str(folder), "--out", str(out),
                           "--workers", "2"], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]  # one file is not audio
    assert "7/7" in proc.stderr and "100%" in proc.stderr  # tqdm's bar, as in a local run
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"6 analysed, 0 already in {out}, 1 failed"
    run_batch(folder, tmp_path / "local.json", fmt="json", progress=False)
    assert _records(out) == _records(tmp_path / "local.json")


def _long_copies(dest, source, n, minutes=1.0):
    """``n`` recordings of ``minutes`` each: the long test recording repeated (each one to two
    seconds of analysis, so a worker killed mid-batch is caught mid-recording)."""
    y, sr = sf.read(source, dtype="float32")
    y = np.tile(y, int(np.ceil(minutes * 60 * sr / len(y))))[:int(minutes * 60 * sr)]
    dest.mkdir()
    for i in range(n):
        sf.write(dest / f"s{i}.wav", y, sr, subtype="PCM_16")
    return dest


def test_a_worker_killed_mid_batch_loses_nothing_and_writes_nothing_twice(tmp_path, long_recording):  # noqa: F811
    folder = _long_copies(tmp_path / "long", long_recording.path, 8)
    cluster, client = _start_local_cluster()  # its own: one of its workers is killed
    try:
        pids = client.run(os.getpid)
        killed = {}

        def kill_a_busy_worker(path, result):
            if killed:
                return
            busy = sorted(w for w, keys in client.processing().items() if keys and w in pids)
            if busy:  # else: try again after the next record
                os.kill(pids[busy[0]], signal.SIGKILL)  # no goodbye: as a crash or the OOM killer would
                killed[busy[0]] = True

        out = tmp_path / "dask.json"
        report = run_batch(folder, out, fmt="json", progress=False, scheduler=cluster.scheduler_address,
                           on_file=kill_a_busy_worker)
    finally:
        client.close()
        cluster.close()
    assert killed and report.retried >= 1  # the killed worker held recordings, sent elsewhere
    assert (report.done, report.failed) == (8, 0)
    records = _records(out)
    assert [r["path"] for r in records] == [str(folder / f"s{i}.wav") for i in range(8)]  # each once, in order
    run_batch(folder, tmp_path / "local.json", fmt="json", progress=False)
    assert records == _records(tmp_path / "local.json")


@pytest.mark.parametrize("args, says", [
    (["--scheduler", "foo"], "foo: not a Dask scheduler address like tcp://HOST:PORT (missing port number"),
    (["--scheduler", "http://127.0.0.1:8786"], "not a Dask scheduler address like tcp://HOST:PORT (unknown protocol"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "with --scheduler the cluster's own workers analyse"),
], ids=["no-port", "http", "workers-too"])
def test_a_scheduler_option_that_cannot_work_is_one_line(folder, tmp_path, capsys, args, says):
    assert main(["batch", str(folder), "--out", str(tmp_path / "x.json"), "--no-progress", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ser: ") and says in err and len(err.strip().splitlines()) == 1


# -- a cluster started with Dask's own command line ---------------------------------------------


class DaskCLI:
    """``dask scheduler`` and one ``dask worker`` on loopback, optionally with ``hidden`` covered
    by an empty tmpfs in the worker's own mount namespace (the worker cannot see what is in it)."""

    def __init__(self, tmp, hidden=None):
        self.tmp, self.procs = tmp, []
        tmp.mkdir(parents=True, exist_ok=True)
        sched_file = tmp / "scheduler.json"
        self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(sched_file)], "scheduler")
        deadline = time.time() + 120
        while not sched_file.exists() and time.time() < deadline and self.procs[0].poll() is None:
            time.sleep(0.1)
        if not sched_file.exists():
            self.close()
            raise RuntimeError("dask scheduler did not start:\n" + (tmp / "scheduler.log").read_text()[-3000:])
        time.sleep(0.2)  # the file is written in one go, but give it a moment to be complete
        self.address = json.loads(sched_file.read_text())["address"]
        worker = [DASK, "worker", self.address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                  "--no-dashboard", "--local-directory", str(tmp / "worker-space"), "--death-timeout", "120"]
        if hidden is not None:
            script = 'mount -t tmpfs none "$1" && shift && exec "$@"'
            worker = ["unshare", "-r", "-m", "sh", "-c", script, "sh", str(hidden), *worker]
        self._start(worker, "worker")
        from distributed import Client

        try:
            with Client(self.address, set_as_default=False, timeout=60) as client:
                client.wait_for_workers(1, timeout=120)
        except (OSError, TimeoutError):
            self.close()
            raise RuntimeError("dask worker did not join:\n" + (tmp / "worker.log").read_text()[-3000:]) from None

    def _start(self, cmd, name):
        log = open(self.tmp / f"{name}.log", "w")
        self.procs.append(subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def close(self):
        for proc in reversed(self.procs):  # the worker first, then the scheduler
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def _ser_batch(*args):
    return subprocess.run([sys.executable, "-m", "ser_engine.cli", "batch", *map(str, args), "--no-progress"],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(DASK is None, reason="the `dask` command is not installed")
def test_ser_batch_on_a_cluster_started_with_dasks_own_cli(folder, tmp_path):
    cluster = DaskCLI(tmp_path / "cli-cluster")
    try:
        out = tmp_path / "cli.json"
        proc = _ser_batch(folder, "--out", out, "--scheduler", cluster.address)
    finally:
        cluster.close()
    assert proc.returncode == 2, proc.stderr[-2000:]  # one file is not audio, as in a local run
    assert proc.stderr.strip().splitlines()[-1] == f"6 analysed, 0 already in {out}, 1 failed"
    run_batch(folder, tmp_path / "local.json", fmt="json", progress=False)
    assert _records(out) == _records(tmp_path / "local.json")


@pytest.mark.skipif(DASK is None or not UNSHARE, reason="needs `dask` and `unshare -r -m` with tmpfs mounts")
def test_what_a_worker_cannot_read_ends_the_run_in_one_line_naming_it(tmp_path):
    hidden = tmp_path / "not-on-the-worker"
    (hidden / "queue").mkdir(parents=True)
    clips = ravdess_files([4], emotions=[3, 5], per_emotion=1)
    shutil.copy(clips[0], hidden / "queue" / "a.flac")
    shutil.copytree(REPO / "resources" / "model", hidden / "model")
    # a folder the worker sees, whose first file it can read and whose second points into the
    # hidden folder: only the task's own check can catch that one
    seen = tmp_path / "seen"
    seen.mkdir()
    shutil.copy(clips[0], seen / "a.flac")
    shutil.copy(clips[1], hidden / "b.flac")
    (seen / "b.flac").symlink_to(hidden / "b.flac")
    cluster = DaskCLI(tmp_path / "cli-cluster", hidden=hidden)
    try:
        up_front = _ser_batch(hidden / "queue", "--out", tmp_path / "q.csv", "--scheduler", cluster.address)
        model = _ser_batch(seen, "--out", tmp_path / "m.csv", "--scheduler", cluster.address,
                           "--model", hidden / "model")
        in_task = _ser_batch(seen, "--out", tmp_path / "s.json", "--scheduler", cluster.address)
    finally:
        cluster.close()
    for proc in (up_front, model, in_task):
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("ser: ")
    assert f"{hidden / 'queue' / 'a.flac'}: the Dask worker tcp://127.0.0.1:" in up_front.stderr
    assert "cannot read it (No such file or directory)" in up_front.stderr and "shared storage" in up_front.stderr
    assert f"{hidden / 'model'}: the Dask worker tcp://127.0.0.1:" in model.stderr
    assert "cannot use this model (model bundle not found)" in model.stderr and "shared storage" in model.stderr
    assert f"{seen / 'b.flac'}: the Dask worker" in in_task.stderr
    assert "what was written is kept (1 of 2 recordings): run the same command again to resume" in in_task.stderr
    # a.flac was written, b.flac was not; the same command with readable storage resumes from there
    assert [r["path"] for r in _records(tmp_path / "s.json")] == [str(seen / "a.flac")]
    assert not (tmp_path / "q.csv").exists() or len((tmp_path / "q.csv").read_text().splitlines()) <= 1


# -- the network --------------------------------------------------------------------------------

LOOPBACK_ONLY = r'''
import os, socket, traceback

_LOG = os.environ["SER_SOCKET_LOG"]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _record(what):
    with open(_LOG, "a") as fh:
        fh.write(f"{os.getpid()} {what}\n" + "".join(traceback.format_stack()) + "\n----\n")
    raise OSError("network access blocked by the loopback-only test")


def _check(addr):
    if isinstance(addr, tuple) and addr and addr[0] not in _LOOPBACK and addr[0] != "":
        _record(f"address {addr!r}")
    if isinstance(addr, tuple) and addr and addr[0] == "":
        _record(f"all interfaces {addr!r}")


class _LoopbackOnly(socket.socket):
    def connect(self, addr):
        _check(addr)
        return super().connect(addr)

    def connect_ex(self, addr):
        _check(addr)
        return super().connect_ex(addr)

    def bind(self, addr):
        _check(addr)
        return super().bind(addr)

    def sendto(self, data, *args):
        _check(args[-1])
        return super().sendto(data, *args)


_getaddrinfo = socket.getaddrinfo


def _lookup(host, *args, **kwargs):
    if host not in _LOOPBACK and host is not None:
        _record(f"lookup {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket = _LoopbackOnly
socket.getaddrinfo = _lookup
'''


def test_workers_talk_over_loopback_only_and_a_plain_batch_opens_no_socket(folder, tmp_path):
    """``--workers 2``: every socket of the client, the scheduler and the worker processes
    (they inherit the ``sitecustomize``) binds or connects to loopback; without it, the batch
    imports no Dask and opens no internet socket at all."""
    from tests.reliability.test_offline import _attempts, _offline_env

    site = tmp_path / "loopback-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LOOPBACK_ONLY, encoding="utf-8")
    log = tmp_path / "non-loopback.log"
    log.touch()
    env = dict(_env(), SER_SOCKET_LOG=str(log), PYTHONPATH=os.pathsep.join([str(site), str(REPO)]))
    cmd = [sys.executable, "-m", "ser_engine.cli", "batch", str(folder), "--no-progress"]
    proc = subprocess.run([*cmd, "--out", str(tmp_path / "w2.json"), "--workers", "2"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "6 analysed" in proc.stderr, proc.stderr[-2000:]
    assert log.read_text() == "", log.read_text()[-3000:]

    env, log = _offline_env(tmp_path)
    code = "import sys, runpy; sys.argv = ['ser'] + sys.argv[1:]; runpy.run_module('ser_engine.cli', run_name='__main__')"
    probe = ("import atexit, sys\natexit.register(lambda: print('DASK', 'distributed' in sys.modules, file=sys.stderr))\n"
             + code)
    proc = subprocess.run([sys.executable, "-c", probe, "batch", str(folder), "--out", str(tmp_path / "w1.json"),
                           "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "6 analysed" in proc.stderr, proc.stderr[-2000:]
    assert "DASK False" in proc.stderr
    assert _attempts(log) == []
