"""Training's independent work, in this process or on a Dask cluster: the model fits (each
fold's ensemble members and the final model's) and the feature extraction.

The seam is a *runner*: ``runner.run(fn, tasks, name=..., on_done=..., **kwargs)`` yields
``fn(task, **kwargs)`` for every task, in the tasks' order. :class:`LocalRunner` is a plain
loop in this process: every run without ``--scheduler``/``--workers`` uses it, and
``distributed`` is never imported. :class:`ClusterRunner` is a
:class:`~ser_engine.cluster.TaskStream` on a Dask client (:func:`open_runner`): the workers
compute, this process receives the results in order and alone writes (the feature cache, the
report, the bundle), as ``ser batch`` writes its journal.

A fit is a pure task (:class:`FitTask` -> :class:`MemberFit`): the items it trains and
validates on, the :class:`~training.config.TrainConfig`, the seed and the number of epochs in;
the network's weights, the epoch history, the best epoch and the global statistics out. The
recordings it reads are shared once per run (``runner.share``: scattered to every worker).
Progress comes back as each epoch ends (the worker logs a Dask event; this process turns it
back into the :class:`~training.train.EpochLog` a local run emits) and is forwarded in the
order a local run emits it (:class:`EpochFeed`). A cancel reaches every worker within a
fraction of a second, and a running fit stops after its current batch.

**Same numbers as a local run.** How many threads split a sum changes its last bits
(measured on 2 cores): the features with 1 BLAS thread instead of 2 differ by up to 6e-5 (on
log-mel values of tens), a fit with 1 TensorFlow intra-op thread instead of 2 by 3.5e-7 in its
weights after 2 epochs and after 25 (the inter-op threads change nothing), and a Dask worker
starts with one BLAS thread. So every task runs with the thread counts a local run has on the
machine that runs ``ser-train`` (:func:`local_threads`), pinned on the worker (:func:`pinned`),
whatever the worker's own machine, so a fit does not depend on where it runs; one fit at a time
per worker process, with random draws of its own (:func:`own_random`). On a LocalCluster the
report, the temperatures, the bundle's weights and the cached features are then a local run's
bit for bit (tests/training/test_distributed.py); workers on other CPUs may still round
differently (the BLAS and oneDNN kernels are chosen per CPU). A worker with fewer cores than
that count shares them.
"""

import contextlib
import dataclasses
import logging
import threading
import time
import uuid

from ser_engine.errors import TrainingCancelled

logger = logging.getLogger(__name__)

#: How often a cluster run polls ``should_stop`` while the workers train.
STOP_POLL_S = 0.1


# -- the seam ---------------------------------------------------------------------------------


class LocalRunner:
    """Runs every task in this process, one after the other: a run without a cluster."""

    def share(self, obj):
        """``obj`` as the tasks receive it (here: itself)."""
        return obj

    def run(self, fn, tasks, *, name=None, on_done=None, **kwargs):
        """``fn(task, **kwargs)`` for each task, yielded in order; ``on_done(task)`` after each
        (a :class:`ClusterRunner` adds ``threads=``)."""
        for task in tasks:
            value = fn(task, **kwargs)
            if on_done is not None:
                on_done(task)
            yield value

    def check_readable(self, paths):
        """Nothing to check: this process reads the files itself."""

    @contextlib.contextmanager
    def channel(self, receive, should_stop):
        """What a fit reports through: epochs go straight to ``receive(index, log)``."""
        yield LocalChannel(receive, should_stop)


@dataclasses.dataclass
class LocalChannel:
    receive: object
    should_stop: object

    def epoch(self, task, log):
        self.receive(task.index, log)


class ClusterRunner:
    """Runs tasks on the workers of a Dask client, results in order (:class:`~ser_engine.cluster.TaskStream`)."""

    def __init__(self, client):
        self.client = client
        self.threads = local_threads()
        self._shared = {}  # id(obj) -> (obj, future): kept alive for the run
        self._checked = False

    def share(self, obj):
        """``obj`` scattered once to every worker: one future the tasks receive as ``obj``.

        Scattered inside a list, because ``Client.scatter`` takes a dict for many objects
        under its keys and returns a dict of futures; passed to ``Client.map``, a dict of a
        few hundred futures weighs over Dask's 100 kB for a keyword argument, which Dask then
        ships as a task keyed by the argument's name ("recs"): the folds' fits then submit
        that key again while it runs, and the scheduler fails the fit
        (``AssertionError(<TaskState 'recs' processing>)``, a 600-clip training)."""
        if id(obj) not in self._shared:
            [future] = self.client.scatter([obj], broadcast=True, hash=False)
            self._shared[id(obj)] = (obj, future)
        return self._shared[id(obj)][1]

    def run(self, fn, tasks, *, name, on_done=None, **kwargs):
        from ser_engine.cluster import TaskStream

        stream = iter(TaskStream(self.client, fn, tasks, name=name, on_done=on_done, on_error=_cluster_error,
                                 threads=self.threads, **kwargs))
        try:
            for _, value in stream:
                yield value
        finally:  # stopped early: the stream cancels what the workers have not finished
            stream.close()

    def check_readable(self, paths):
        """Every worker opens the first file of each folder of ``paths`` (those this machine
        opens), once per run.

        Raises
        ------
        ClusterError
            Naming the first file a worker cannot open, the worker and the reason.
        """
        from ser_engine.batch_cluster import samples_of, unreadable_error

        if self._checked:
            return
        samples = samples_of(paths)
        found = self.client.run(_first_unreadable, samples)
        for worker, (path, reason) in sorted(found.items(), key=lambda kv: kv[0]):
            if path:
                raise unreadable_error(worker, path, reason)
        self._checked = True

    @contextlib.contextmanager
    def channel(self, receive, should_stop):
        """A channel the workers report through (a Dask event topic of this stream) and a
        watcher that, once ``should_stop()`` is true, tells every worker to stop this stream's
        fits; leaving the block early (an error, a cancel) stops them too."""
        token = uuid.uuid4().hex[:12]
        topic = f"ser-train-{token}"

        def on_event(event):  # in the client's event-loop thread
            msg = event[1]
            from .train import EpochLog

            receive(msg["task"], EpochLog(**msg["log"]))

        self.client.subscribe_topic(topic, on_event)
        done = threading.Event()
        watcher = None
        if should_stop is not None:
            def watch():
                while not done.wait(STOP_POLL_S):
                    if should_stop():
                        self._stop_workers(token)
                        return

            watcher = threading.Thread(target=watch, name="ser-train-stop", daemon=True)
            watcher.start()
        ok = False
        try:
            yield WorkerChannel(topic, token)
            ok = True
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(topic)
            if not ok:  # the fits still running would go on to the end for nothing
                self._stop_workers(token)

    def _stop_workers(self, token):
        with contextlib.suppress(Exception):
            self.client.run(_stop_token, token)

    def close(self):
        futures = [f for _, f in self._shared.values()]
        self._shared.clear()
        if futures:
            with contextlib.suppress(Exception):
                self.client.cancel(futures)


@dataclasses.dataclass(frozen=True)
class WorkerChannel:
    """What a fit on a worker reports through (picklable): its epochs as Dask events, and the
    stop flag this process sets on every worker."""

    topic: str
    token: str

    def epoch(self, task, log):
        from distributed import get_worker

        get_worker().log_event(self.topic, {"task": task.index, "log": dataclasses.asdict(log)})

    def should_stop(self):
        return self.token in _STOPPED


#: Tokens of the streams whose fits must stop, in a worker process (set by :func:`_stop_token`).
_STOPPED = set()


def _stop_token(token):
    _STOPPED.add(token)


def _first_unreadable(samples):
    # On each worker (client.run): the first sample it cannot open, and why.
    from ser_engine.batch_cluster import cannot_open

    for path in samples:
        reason = cannot_open(path)
        if reason:
            return path, reason
    return None, None


def _cluster_error(task, exc):
    """A task that failed on the cluster: a cancel or one of ours as it is; a task that took
    down workers in a row in one line."""
    from distributed import KilledWorker

    from ser_engine.cluster import ClusterError, first_line

    if isinstance(exc, KilledWorker):
        raise ClusterError(f"{describe(task)} took down Dask workers in a row (a crash, or out of memory): "
                           f"{first_line(exc)}") from None
    raise exc


def describe(task):
    """A task in a few words, for messages."""
    if isinstance(task, FitTask):
        where = f"fold {task.event['fold']}" if task.event.get("phase") == "fold" else "the final model"
        return f"the fit of {where}, model {task.member + 1}"
    first = task[0]
    if isinstance(first, list):  # encode_task's (keys, digests)
        return f"the speech encoder on {first[0]} and {len(first) - 1} more"
    return f"the features of {first}"  # extract_task's (path, seed)


@contextlib.contextmanager
def open_runner(scheduler=None, workers=None):
    """The runner of a training run.

    Parameters
    ----------
    scheduler : str or None
        A running Dask scheduler's address (``tcp://HOST:PORT``).
    workers : int or None
        Start a LocalCluster of this many worker processes (one thread each, loopback only).

    Yields
    ------
    ClusterRunner or None
        None when neither is given: everything runs in this process, as it always has, and
        ``distributed`` is not imported.
    """
    if not scheduler and not workers:
        yield None
        return
    from ser_engine.cluster import open_client

    with open_client(scheduler, workers=workers or 1) as client:
        runner = ClusterRunner(client)
        try:
            yield runner
        finally:
            runner.close()


# -- the fits ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FitTask:
    """One model to train: an ensemble member of a fold's model or of the final model.

    ``event`` is the progress event its epochs are reported in (``{"phase": "fold", "fold":
    i, "folds": k}`` or ``{"phase": "final"}``); ``index`` its place in its stream.
    """

    index: int
    member: int
    seed: int
    epochs: object  # int or None (the config's)
    train_items: tuple
    val_items: tuple
    cfg: object  # TrainConfig
    event: dict
    targets: object = None  # dict path -> teacher probabilities of train_items (cfg.distill), or None


@dataclasses.dataclass
class MemberFit:
    """What a fit returns: everything needed to rebuild its model here."""

    weights: list  # of np.ndarray: the whole network's (auxiliary heads included)
    history: list  # of EpochLog
    best_epoch: int
    global_stats: object  # FeatureStats


def member_tasks(train_items, val_items, cfg, *, seed, epochs=None, event=None, start=0, states=None):
    """The :class:`FitTask` of each ensemble member (seed ``seed + 1000 * k``, as ever); with
    ``cfg.distill``, the teacher's targets of ``train_items`` from the recordings' encoder
    ``states`` (:func:`~training.teacher.teacher_targets`), the same for every member."""
    targets = None
    if cfg.distill:
        from ser_engine import EMOTIONS

        from .teacher import teacher_targets

        if states is None:
            raise ValueError("distillation needs the recordings' encoder states for its teacher")
        targets = teacher_targets(train_items, states, len(EMOTIONS))
    return [FitTask(start + k, k, seed + 1000 * k, epochs, tuple(train_items), tuple(val_items), cfg,
                    dict(event or {}), targets) for k in range(cfg.ensemble)]


def fit_member(task, *, recs, channel, threads=None):
    """Train one member (:func:`~training.train.train_member`): the fit task, here or on a
    worker (``threads``: the counts to pin there, :func:`pinned`)."""
    if threads is None:  # here: as a local run always has
        return _fit(task, recs, channel)
    # On a worker: one fit at a time in the process (TensorFlow's seeds are the process's), its
    # Python random draws its own (Dask's threads draw from the global generator meanwhile).
    with _FIT_LOCK, pinned(threads, tensorflow=True), own_random():
        return _fit(task, recs, channel)


def _fit(task, recs, channel):
    from .train import train_member

    should_stop = channel.should_stop
    if should_stop is not None and should_stop():
        raise TrainingCancelled("training cancelled; the active model is unchanged")

    def on_epoch(log):
        log.member = task.member
        channel.epoch(task, log)

    tm = train_member(list(task.train_items), list(task.val_items), None, task.cfg, seed=task.seed,
                      epochs=task.epochs, on_epoch=on_epoch, should_stop=should_stop, recs=recs,
                      targets=task.targets)
    return MemberFit(tm.network.get_weights(), tm.history, tm.best_epoch, tm.global_stats)


_FIT_LOCK = threading.Lock()
_OWN = threading.local()
_RANDOM_FUNCTIONS = ("seed", "random", "uniform", "randint", "randrange", "choice", "choices", "sample", "shuffle",
                     "getrandbits", "randbytes", "gauss", "normalvariate", "getstate", "setstate")
_random_installed = False


@contextlib.contextmanager
def own_random():
    """For the block, Python's module-level ``random`` functions called from this thread use a
    generator of its own; other threads' calls use the global one as ever.

    Keras draws each layer's seed from the global generator (``random.randint``) after
    ``keras.utils.set_random_seed`` seeds it. In a Dask worker the event-loop thread draws from
    that generator too, at moments no one controls (``distributed.protocol.compression``
    samples a message's bytes before compressing it, ``dask.sizeof`` samples a long list), and
    a draw between the seeding and a layer's would give the fit other seeds than a local run's.
    """
    import random

    global _random_installed
    if not _random_installed:
        for name in _RANDOM_FUNCTIONS:
            if hasattr(random, name):
                setattr(random, name, _dispatch(name, getattr(random, name)))
        _random_installed = True
    _OWN.rng = random.Random()
    try:
        yield
    finally:
        _OWN.rng = None


def _dispatch(name, original):
    def call(*args, **kwargs):
        rng = getattr(_OWN, "rng", None)
        return getattr(rng, name)(*args, **kwargs) if rng is not None else original(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = original.__doc__
    return call


@dataclasses.dataclass(frozen=True)
class Threads:
    """The thread counts a computation's last bits depend on."""

    blas: object  # int, or None without a BLAS library threadpoolctl knows
    tf_intra: int


def local_threads():
    """The :class:`Threads` a local run has in this process: its BLAS threads (as set by the
    environment, e.g. ``OPENBLAS_NUM_THREADS``, else one per core), and TensorFlow's intra-op
    threads (``TF_NUM_INTRAOP_THREADS``, else what this process set, else one per core:
    TensorFlow's default).

    A LocalCluster's nannies set ``OMP_NUM_THREADS=1`` (and the BLAS variables) in this
    process's environment before they start their workers, so a library loaded afterwards (a
    second OpenBLAS with SciPy, OpenMP with TensorFlow) starts with one thread; NumPy's BLAS,
    loaded at its import before any cluster, keeps the count a local run has: the largest.
    """
    import os
    import sys

    import numpy  # noqa: F401 (loads its BLAS, so that threadpoolctl sees it)
    import threadpoolctl

    blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    intra = int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0)
    if not intra and "tensorflow" in sys.modules:
        intra = sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads()
    if not intra:
        intra = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return Threads(max(blas) if blas else None, intra)


@contextlib.contextmanager
def pinned(threads, *, tensorflow=False):
    """Run the block with ``threads`` (a :class:`Threads`; None: as they are): every BLAS and
    OpenMP library of the process limited or raised to ``threads.blas`` for the block (a Dask
    worker starts them with one thread; a local run has its default, the same for all), and
    with ``tensorflow``, TensorFlow's intra-op threads set for this process (its inter-op
    threads, which change no number, stay its default, as in a local run).

    TensorFlow's threads can be set only before it starts; a worker that started it with
    another count says so and goes on (its fits then differ in the last bits).
    """
    if threads is None:
        yield
        return
    if tensorflow:
        import tensorflow as tf

        config = tf.config.threading
        if config.get_intra_op_parallelism_threads() != threads.tf_intra:
            try:
                config.set_intra_op_parallelism_threads(threads.tf_intra)
            except RuntimeError:
                logger.warning("TensorFlow already runs with %d intra-op threads in this worker, not %d: its fits "
                               "may differ from a local run's in the last bits",
                               config.get_intra_op_parallelism_threads(), threads.tf_intra)
    if threads.blas is None:
        yield
        return
    import threadpoolctl

    with threadpoolctl.threadpool_limits(threads.blas):
        yield


def member_model(fit, cfg):
    """The :class:`~training.train.TrainedModel` of a :class:`MemberFit`: the network built
    again and given its weights (the same numbers as the one trained)."""
    from ser_engine import EMOTIONS

    from .model import AUX_OUTPUTS, build_model, output_model
    from .train import TrainedModel

    trained = build_model((cfg.window.length, cfg.n_inputs), len(EMOTIONS), conv_filters=cfg.conv_filters,
                          lstm_units=cfg.lstm_units, dropout=cfg.dropout, learning_rate=cfg.learning_rate,
                          input_noise=cfg.input_noise, weight_decay=cfg.weight_decay,
                          label_smoothing=cfg.label_smoothing, lstm_layers=cfg.lstm_layers, pooling=cfg.pooling,
                          aux_weight=cfg.aux_weight)
    trained.set_weights(fit.weights)
    model = output_model(trained, "emotion") if cfg.aux_weight else trained
    aux_models = {name: output_model(trained, name) for name in AUX_OUTPUTS} if cfg.aux_weight else {}
    return TrainedModel(model, fit.global_stats, fit.history, fit.best_epoch, aux_models, trained)


class EpochFeed:
    """Epoch logs of fits that run at once, forwarded in the order one process emits them:
    the first unfinished fit's as they come, a later fit's once those before it have finished
    (held until then). A log that comes twice (live, then in the fit's history) goes once.

    Thread-safe: live logs arrive on the Dask client's thread, histories on the caller's.
    """

    def __init__(self, tasks, on_epoch):
        self.tasks = list(tasks)
        self.on_epoch = on_epoch
        self._logs = [[] for _ in self.tasks]  # received, in epoch order
        self._sent = [0] * len(self.tasks)
        self._current = 0
        self._lock = threading.Lock()

    def receive(self, index, log):
        with self._lock:
            if index < self._current or log.epoch != len(self._logs[index]) + 1:
                return  # a duplicate, or late: its fit's history has been forwarded
            self._logs[index].append(log)
            if index == self._current:
                self._flush(index)

    def finished(self, index, history):
        """Fit ``index`` is done (all fits before it too): forward what it has left."""
        with self._lock:
            logs = self._logs[index]
            for log in history[len(logs):]:
                log.member = self.tasks[index].member
                logs.append(log)
            self._flush(index)
            self._current = index + 1
            if self._current < len(self.tasks):
                self._flush(self._current)

    def _flush(self, index):
        logs = self._logs[index]
        while self._sent[index] < len(logs):
            if self.on_epoch is not None:
                self.on_epoch(self.tasks[index], logs[self._sent[index]])
            self._sent[index] += 1


def fit_members(tasks, recs, *, on_epoch=None, should_stop=None, runner=None):
    """Train every :class:`FitTask` through ``runner``; yield each one's
    :class:`~training.train.TrainedModel` in the tasks' order.

    Parameters
    ----------
    tasks : list of FitTask
    recs : dict
        The recordings the fits read (:func:`~training.scoring.recordings_of`), shared once.
    on_epoch : callable(FitTask, EpochLog) or None
        Every epoch of every fit, in the order one process gives them.
    should_stop : callable() -> bool or None
        Polled after every batch (locally) or every :data:`STOP_POLL_S` (on a cluster);
        true ends the stream with :class:`TrainingCancelled`.
    runner : LocalRunner, ClusterRunner or None (local)
    """
    runner = runner or LocalRunner()
    tasks = list(tasks)
    feed = EpochFeed(tasks, on_epoch)

    def check_stop(task):  # as each fit finishes here (a worker that missed the stop flag)
        if should_stop is not None and should_stop():
            raise TrainingCancelled("training cancelled; the active model is unchanged")

    with runner.channel(feed.receive, should_stop) as channel:
        data = runner.share(recs)
        t0 = time.perf_counter()
        for task, fit in zip(tasks, runner.run(fit_member, tasks, name="ser-fit", on_done=check_stop, recs=data,
                                               channel=channel), strict=True):
            feed.finished(task.index, fit.history)
            yield member_model(fit, task.cfg)
        logger.info("%d fits done in %.0f s", len(tasks), time.perf_counter() - t0)


# -- feature extraction on the workers ----------------------------------------------------------


def extract_task(job, *, config_dict, speed, snr, pitch, channel=None, threads=None):
    """One file's features on a worker (:func:`~training.cache._extract`): ``(features or
    None, reason)``, and when there are none, ``(worker, why)`` if this worker cannot open
    the file at all (a worker without the storage, not a bad file), else None."""
    from distributed import get_worker

    from ser_engine.batch_cluster import cannot_open

    from .cache import _extract

    path, seed = job
    with pinned(threads):
        X, reason = _extract(path, config_dict, speed, snr, seed, pitch, channel)
    why = cannot_open(path) if X is None else None
    return (X, reason), ((get_worker().address, why) if why else None)


_ENCODERS = threading.local()  # per worker thread (an encoder is not thread-safe): (sha256, encoder, bank)


def encode_task(keys, *, config, seg, front_end, spec, threads=None):
    """Encoder states of a group of recordings on a worker (:func:`~training.cache.encode_group`),
    with an encoder loaded once per worker thread."""
    from ser_engine.encoder import SpeechEncoder, whisper_mel_bank

    from .cache import encode_group

    held = getattr(_ENCODERS, "held", None)
    if held is None or held[0] != spec.sha256:
        held = (spec.sha256, SpeechEncoder(spec), whisper_mel_bank())
        _ENCODERS.held = held
    with pinned(threads):  # Whisper's log-mel is a BLAS product; the encoder has its own 2 threads everywhere
        return encode_group(held[1], held[2], keys, config=config, seg=seg, front_end=front_end)


def check_unreadable(path, unreadable):
    """Raise the one-line error when a worker could not open a file this machine opens
    (``unreadable``: ``(worker, why)`` from :func:`extract_task`)."""
    from ser_engine.batch_cluster import cannot_open, unreadable_error

    if unreadable and cannot_open(path) is None:
        raise unreadable_error(unreadable[0], path, unreadable[1])
