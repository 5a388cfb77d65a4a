"""``ser-train`` on a Dask cluster: a real scheduler and worker processes on loopback.

A LocalCluster of worker processes trains the same tiny 3-fold report (ensemble of 2) as one
process does; its report, temperatures, bundle, feature cache and progress events must be the
local run's exactly (every task runs with the thread counts of a local run here, and each fit's
random draws are its own: ``training.distributed``). A worker that cannot read the data is
a ``dask worker`` in its own mount namespace with an empty tmpfs over the folder.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from ser_engine.errors import TrainingCancelled
from tests.conftest import REPO, TINY, make_mini_dataset, requires_data
from training.config import TrainConfig
from training.distributed import EpochFeed, member_tasks
from training.train import EpochLog

pytestmark = requires_data

#: Three actors, one clip per emotion: 3 folds of one test actor, one validation actor.
CFG = dict(folds=3, val_actors=1, **{**TINY, "ensemble": 2, "speeds": (), "noise_snrs": (20,)})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_mini_dataset(tmp_path_factory.mktemp("mini") / "data", actors=(1, 2, 3), per_emotion=1)


@pytest.fixture(scope="module")
def local_cluster():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, scheduler_kwargs={"dashboard": False,
                                                                     "dashboard_address": "127.0.0.1:0"})
    client = Client(cluster, set_as_default=False)
    yield cluster, client
    client.close()
    cluster.close()


def _run(data, out, cache, **where):
    from training.pipeline import run_training

    events = []
    outcome = run_training(data, out, TrainConfig(**CFG), cache_root=cache, progress=events.append,
                           model_id="tiny", litert=False, **where)
    return outcome, events


def _figures(report):
    """The report without what differs between any two runs: clock times and the date."""
    drop = {"created", "timing", "seconds"}

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in drop}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return strip(report)


def _differences(a, b, path=""):
    """Where two JSON-like values differ (paths), for a readable failure."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{i}]")]
    same = a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
    return [] if same else [f"{path}: {a!r} != {b!r}"]


def _epochs(events):
    """Each epoch event's run and figures (a NaN, which equals nothing, as None)."""
    return [(e["phase"], e.get("fold"), e["epoch"].member, e["epoch"].epoch, e["epoch"].loss,
             None if e["epoch"].val_loss != e["epoch"].val_loss else e["epoch"].val_loss)
            for e in events if "epoch" in e]


def _cache(root):
    return {p.relative_to(root): np.load(p) for p in sorted(root.rglob("*.npy"))}


@pytest.mark.slow
def test_a_training_on_a_local_cluster_is_the_local_one_exactly(data, tmp_path, local_cluster):
    cluster, _ = local_cluster
    local, local_events = _run(data, tmp_path / "local", tmp_path / "cache-local")
    dist, dist_events = _run(data, tmp_path / "dask", tmp_path / "cache-dask", scheduler=cluster.scheduler_address)
    # the report: every figure, fold, history and out-of-fold score (tolerance: none needed)
    assert not _differences(_figures(dist.report), _figures(local.report))
    assert dist.report["calibration"]["temperature"] == local.report["calibration"]["temperature"]
    assert dist.report["evaluation"]["protocol"] == "3-fold speaker-independent cross-validation by actor"
    # the bundle: the same manifest (but its date) and the same weights
    import keras

    models = [keras.saving.load_model(o.bundle_dir / "model.keras", safe_mode=True) for o in (local, dist)]
    weights = [m.get_weights() for m in models]
    assert len(weights[0]) == len(weights[1]) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))
    manifests = [json.loads((o.bundle_dir / "manifest.json").read_text()) for o in (local, dist)]
    for m in manifests:
        del m["created"], m["files"]  # the files' sha256: a .keras file holds the time it was saved
    assert manifests[0] == manifests[1]  # statistics, temperatures, threshold, evaluation, config
    # the features the workers extracted (noisy copies too), written here by this process
    local_cache, dask_cache = _cache(tmp_path / "cache-local"), _cache(tmp_path / "cache-dask")
    assert len(local_cache) == 48 and local_cache.keys() == dask_cache.keys()
    assert all(np.array_equal(local_cache[k], dask_cache[k]) for k in local_cache)
    # progress: the same events in the same order, epochs from the workers included
    assert [e["phase"] for e in dist_events] == [e["phase"] for e in local_events]
    assert _epochs(dist_events) == _epochs(local_events)
    assert {(p, f, m) for p, f, m, *_ in _epochs(local_events)} == {
        ("fold", f, m) for f in (1, 2, 3) for m in (0, 1)} | {("final", None, 0), ("final", None, 1)}


def test_the_workers_encode_speech_as_this_process_does(data, tmp_path, local_cluster):
    """The encoder front end's states (the speech encoder on each recording and noisy copy, in
    groups), computed on the workers, are this process's, and come back in order."""
    from ser_engine.segments import SegmentConfig
    from training.cache import extract_encoder_states, extract_training_features
    from training.distributed import ClusterRunner

    _, client = local_cluster
    cfg = TrainConfig(speeds=(), noise_snrs=(20,), front_end={"kind": "both"})
    paths = sorted((data / "Actor_01").iterdir())[:5]
    feats, _, _ = extract_training_features(paths, config=cfg.feature, noise_snrs=cfg.noise_snrs, workers=1)
    kwargs = dict(config=cfg.feature, seg=SegmentConfig(), front_end=cfg.front_end, files_per_call=4)
    local_events, dask_events = [], []
    local = extract_encoder_states(feats, progress=lambda *a: local_events.append(a), **kwargs)
    dist = extract_encoder_states(feats, progress=lambda *a: dask_events.append(a), runner=ClusterRunner(client),
                                  **kwargs)
    assert list(dist) == list(local) and len(local) == 10
    assert all(len(dist[k]) == len(local[k]) > 0 for k in local)
    assert all(np.array_equal(a, b) for k in local for a, b in zip(dist[k], local[k], strict=True))
    assert dask_events == local_events == [(0, 10, 0), (4, 10, 0), (8, 10, 0), (10, 10, 0)]


def test_a_local_run_does_not_import_dask():
    code = ("import sys\nfrom training.distributed import open_runner\nimport training.pipeline, training.cli\n"
            "with open_runner() as runner:\n    assert runner is None\nprint('distributed' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]


@pytest.mark.slow
def test_cancel_stops_the_fits_on_the_workers_within_seconds_and_writes_nothing(data, tmp_path, local_cluster):
    from training.pipeline import run_training

    cluster, client = local_cluster
    asked = []

    def progress(event):
        if event["phase"] == "fold" and "epoch" in event and not asked:
            asked.append(time.monotonic())  # a fit has run an epoch on a worker: cancel now

    cfg = TrainConfig(**{**CFG, "epochs": 200, "patience": 200})  # each fit would run for minutes
    t0 = time.monotonic()
    with pytest.raises(TrainingCancelled):
        run_training(data, tmp_path / "out", cfg, cache_root=tmp_path / "cache", progress=progress,
                     should_stop=lambda: bool(asked), scheduler=cluster.scheduler_address)
    stopped = time.monotonic()
    assert asked and stopped - asked[0] < 10, (stopped - asked[0], stopped - t0)
    assert not (tmp_path / "out").exists()
    # the fits that were running stopped too (not only abandoned): the workers are idle
    deadline = time.monotonic() + 10
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(client.processing().values())


def test_epochs_of_fits_running_at_once_come_out_in_one_process_order():
    """A later fit's live epochs wait until the fits before it are done; an epoch received
    live and again in its fit's history goes out once."""
    cfg = TrainConfig(**{**CFG, "ensemble": 3})
    tasks = member_tasks([], [], cfg, seed=0, event={"phase": "final"})
    out = []
    feed = EpochFeed(tasks, lambda task, log: out.append((task.member, log.epoch)))

    def log(epoch):
        return EpochLog(epoch, 1.0, 0.5)

    feed.receive(1, log(1))
    feed.receive(0, log(1))
    feed.receive(2, log(1))
    feed.receive(1, log(2))
    feed.receive(0, log(2))
    assert out == [(0, 1), (0, 2)]
    feed.finished(0, [log(1), log(2), log(3)])  # its last epoch only in the history
    assert out == [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2)]
    feed.receive(0, log(3))  # late: dropped
    feed.receive(1, log(2))  # again: dropped
    feed.receive(1, log(3))
    feed.finished(1, [log(1), log(2), log(3)])
    feed.finished(2, [log(1), log(2)])
    assert out == [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]


# -- a worker without the shared storage ----------------------------------------------------------

from tests.ser_engine.test_batch_cluster import DASK, UNSHARE, DaskCLI  # noqa: E402


@pytest.mark.skipif(DASK is None or not UNSHARE, reason="needs `dask` and `unshare -r -m` with tmpfs mounts")
def test_a_worker_that_cannot_read_the_data_ends_the_run_in_one_line(tmp_path, capsys):
    from training.cli import main

    hidden = tmp_path / "not-on-the-worker"
    make_mini_dataset(hidden / "data", actors=(1, 2, 3), per_emotion=1)
    # a folder whose first file the worker reads and whose next one lies in the hidden folder:
    # the check before the work passes, the extraction task's own check catches it
    seen = tmp_path / "seen" / "Actor_01"
    seen.mkdir(parents=True)
    clips = sorted((hidden / "data" / "Actor_01").iterdir())
    shutil.copy(clips[0], seen / clips[0].name)
    for clip in clips[1:]:
        (seen / clip.name).symlink_to(clip)
    for actor in ("Actor_02", "Actor_03"):
        shutil.copytree(hidden / "data" / actor, seen.parent / actor)
    cluster = DaskCLI(tmp_path / "cli-cluster", hidden=hidden)
    try:
        up_front = main(["--data", str(hidden / "data"), "--out", str(tmp_path / "a"), "--folds", "3",
                         "--scheduler", cluster.address])
        err_up_front = capsys.readouterr().err
        in_task = main(["--data", str(seen.parent), "--out", str(tmp_path / "b"), "--folds", "3",
                        "--scheduler", cluster.address])
        err_in_task = capsys.readouterr().err
    finally:
        cluster.close()
    for code, err in ((up_front, err_up_front), (in_task, err_in_task)):
        last = err.strip().splitlines()[-1]
        assert code == 1 and "Traceback" not in err, err[-2000:]
        assert last.startswith("ser-train: ") and "the workers need the recordings at the same paths" in last
    first = sorted((hidden / "data" / "Actor_01").iterdir())[0]
    assert f"{first}: the Dask worker tcp://127.0.0.1:" in err_up_front
    assert "cannot read it (No such file or directory), though this machine can" in err_up_front
    assert f"{seen / clips[1].name}: the Dask worker tcp://127.0.0.1:" in err_in_task
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
@pytest.mark.skipif(DASK is None, reason="the `dask` command is not installed")
def test_ser_train_on_a_cluster_started_with_dasks_own_cli(data, tmp_path, capsys):
    """`dask scheduler` and `dask worker` started by hand, as on a cluster: ser-train --scheduler
    extracts, encodes and fits on that worker, and the bundle it writes labels a file."""
    from ser_engine.cli import main as ser
    from training.cli import main

    cluster = DaskCLI(tmp_path / "cli-cluster")
    try:
        code = main(["--data", str(data), "--out", str(tmp_path / "run"), "--quick", "--epochs", "1",
                     "--no-litert", "--scheduler", cluster.address])
        from distributed import Client

        with Client(cluster.address, set_as_default=False, timeout=60) as client:
            ran = set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))
    finally:
        cluster.close()
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err[-2000:]
    # the tasks' names (training.distributed): features, speech encoder and fits all ran there
    assert {"ser", "ser-encoder", "ser-fit"} <= ran, ran
    bundle = tmp_path / "run" / "model"
    assert (bundle / "filters.npz").exists() and not (bundle / "model.tflite").exists()  # --no-litert
    clip = next((data / "Actor_01").iterdir())
    assert ser(["predict", str(clip), "--json", "--model", str(tmp_path / "run")]) == 0  # through Keras
    row = json.loads(capsys.readouterr().out)
    assert row["model"]["id"] and row["label"] in row["probabilities"]


@pytest.mark.parametrize("args, says", [
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "with --scheduler the cluster's own workers train"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--scheduler", "foo"], "foo: not a Dask scheduler address like tcp://HOST:PORT"),
], ids=["workers-too", "no-workers", "no-port"])
def test_a_cluster_option_that_cannot_work_is_one_line(data, tmp_path, capsys, args, says):
    from training.cli import main

    assert main(["--data", str(data), "--out", str(tmp_path / "x"), *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ser-train: ") and says in err[-1]


def test_the_stop_flag_reaches_a_worker_while_its_task_thread_is_busy(local_cluster):
    """The cancel goes to the workers' event loops (``client.run``), not through the task queue,
    so a fit polling it after each batch sees it while it trains."""
    from training.distributed import ClusterRunner, WorkerChannel

    _, client = local_cluster
    runner = ClusterRunner(client)
    stop = threading.Event()
    with runner.channel(lambda index, log: None, stop.is_set) as channel:
        assert isinstance(channel, WorkerChannel)
        fut = client.submit(_wait_for_stop, channel, pure=False)
        time.sleep(0.5)
        stop.set()
        assert fut.result(timeout=90) is True  # generous: the suite's other process may load both cores


def _wait_for_stop(channel):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if channel.should_stop():
            return True
        time.sleep(0.05)
    return False


def test_recordings_shared_by_every_fold_are_one_scattered_object(local_cluster):
    """``runner.share`` of the recordings gives one future, whatever their number: scattered as a
    dict they came back as a dict of futures over Dask's 100 kB limit for a keyword argument, and
    the second fold's fits failed on Dask's task of that name (a 600-clip training)."""
    from distributed import Future

    from training.distributed import ClusterRunner

    _, client = local_cluster
    runner = ClusterRunner(client)
    recs = {f"Actor_{i:02d}/03-01-01-01-01-01-{i:02d}.wav": np.zeros(100, np.float32) for i in range(700)}
    data = runner.share(recs)
    try:
        assert isinstance(data, Future) and runner.share(recs) is data
        for _ in range(3):  # the folds, one after the other
            assert list(runner.run(_count, [0, 1, 2], name="probe", recs=data)) == [700, 701, 702]
    finally:
        runner.close()


def _count(i, *, recs, threads=None):
    return len(recs) + i
