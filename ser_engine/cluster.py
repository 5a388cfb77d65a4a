"""Independent tasks on a Dask cluster: one the user names, or a LocalCluster on this machine.

``ser batch --scheduler tcp://HOST:PORT`` connects to a running Dask scheduler; ``--workers N``
starts a LocalCluster of N worker processes for the run. Both give a ``distributed.Client``
(:func:`open_client`), and :class:`TaskStream` runs one function over a list of items on it and
hands the results back **in the items' order**, so a caller can write a journal exactly as a
loop in one process would. Nothing here knows about recordings or models: training can use
the same two pieces for its folds and ensemble members.

Network: a LocalCluster listens on loopback only (127.0.0.1, ports chosen by the system, its
HTTP endpoint included), and a scheduler address is contacted only when the user gives one.
Without either, nothing in SER Studio imports ``distributed``.

A worker that dies (killed, out of memory, its machine gone) is Dask's business: the scheduler
sends the tasks it held to other workers, and a task that takes down
``distributed.scheduler.allowed-failures`` + 1 workers (default 3 + 1) fails with
``KilledWorker``. :class:`TaskStream` counts and reports the tasks retried that way.
"""

import contextlib
import logging
import threading
import uuid

from .errors import SerError

logger = logging.getLogger(__name__)

#: Seconds to wait for a scheduler to answer, and for a first worker to join it.
CONNECT_TIMEOUT_S = 15
WORKER_WAIT_S = 60


class ClusterError(SerError):
    """The cluster cannot be used: no scheduler at the address, no workers, a worker that
    cannot read what the work needs, or the scheduler lost mid-run."""


def first_line(exc):
    """An exception as one line: its message's first line, else its type's name."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


#: What the LocalCluster's worker processes are started without: Dask's nanny sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` in each (``distributed.nanny.pre-spawn-environ``) to hand
#: freed memory back to the system at once. Setting it turns off glibc's adaptive mmap
#: threshold, so every NumPy array over 128 kB is mapped and unmapped afresh, page faults and
#: all: a 10-minute recording took 27.7 s instead of 19.1 s in one process on one thread here,
#: and a worker 31.0 s. Workers started with ``dask worker`` keep Dask's setting unless the user
#: unsets it (README: "Batch analysis on a cluster").
WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: What the LocalCluster's workers do not do: sample every thread's stack every 10 ms for the
#: dashboard's profile (``distributed.worker.profile``), holding the GIL each time. The embedded
#: cluster has no dashboard, so the samples would go to no one; a 10-minute recording on two
#: workers took 3% less wall time without them (median of 5 pairs, 0.98-1.06×).
WORKER_CONFIG = {**WORKER_ENVIRON, "distributed.worker.profile.enabled": False}


@contextlib.contextmanager
def open_client(scheduler=None, *, workers=2):
    """A ``distributed.Client`` on ``scheduler``, or on a LocalCluster started for the block.

    Parameters
    ----------
    scheduler : str or None
        A running scheduler's address (``tcp://HOST:PORT``). None: start a LocalCluster.
    workers : int
        Worker processes of the LocalCluster (one thread each); ignored with ``scheduler``.

    Yields
    ------
    distributed.Client
        With at least one worker. Closed (and the LocalCluster stopped) on leaving the block;
        a remote scheduler forgets this client's tasks when it goes.

    Raises
    ------
    ClusterError
        No scheduler answered at the address, or no worker joined within :data:`WORKER_WAIT_S`.
    """
    import dask
    from distributed import Client, LocalCluster  # configures its loggers: before quieting them

    with _quiet_distributed():
        cluster = None
        if scheduler:
            _check_address(scheduler)
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ClusterError(f"{scheduler}: no Dask scheduler answered ({first_line(exc)})") from None
        else:
            # Loopback only, random ports; the scheduler's HTTP endpoint (which would try :8787
            # and warn when that is taken) on a random loopback port too, and no dashboard.
            try:
                with dask.config.set(WORKER_CONFIG):
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None, silence_logs=logging.CRITICAL,
                                           scheduler_kwargs={"dashboard": False,
                                                             "dashboard_address": "127.0.0.1:0"})
            except Exception as exc:  # no ports, no processes: say so in one line
                raise ClusterError(f"could not start {workers} local Dask workers ({type(exc).__name__}: "
                                   f"{first_line(exc)})") from None
            client = Client(cluster, set_as_default=False)
        try:
            if not client.scheduler_info(n_workers=1)["workers"]:
                try:
                    client.wait_for_workers(1, timeout=WORKER_WAIT_S)
                except (TimeoutError, OSError):
                    raise ClusterError(f"{scheduler}: no Dask worker joined within {WORKER_WAIT_S} s (start some "
                                       f"with `dask worker {scheduler}`)") from None
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _check_address(address):
    """Refuse an address Dask cannot parse before a Client is made of it (a Client that fails
    on its address is left half-started and hangs the interpreter's exit for 30 s)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    try:
        protocol, location = parse_address(address)
        if protocol not in backends:
            raise ValueError(f"unknown protocol {protocol!r}")
        if protocol in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise ClusterError(f"{address}: not a Dask scheduler address like tcp://HOST:PORT ({first_line(exc)})") from None


#: The loggers ``distributed`` gives a level of their own (its others inherit from the first).
_DASK_LOGGERS = ("distributed", "distributed.client", "distributed.gc", "tornado", "tornado.application")


@contextlib.contextmanager
def _quiet_distributed():
    """Dask's own log lines (a worker restarted, a task marked failed, tracebacks of worker
    set-up) stay off the user's terminal: the caller reports each of those events in one line."""
    logs = [logging.getLogger(name) for name in _DASK_LOGGERS]
    old = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for log, level in zip(logs, old):
            log.setLevel(level)


def workers_of(client):
    """The addresses of the workers connected now, sorted."""
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


#: Dask's limit (bytes, by ``dask.sizeof``) on a keyword argument of ``Client.map``: a heavier
#: one becomes a task of its own keyed by the argument's *name*, which two streams with the same
#: argument then submit twice (the scheduler fails the second: ``AssertionError(<TaskState ...>)``).
KWARG_LIMIT = 100_000


def _check_light(kwargs):
    """Refuse a keyword argument over :data:`KWARG_LIMIT`: scatter it and pass the future."""
    from dask.sizeof import sizeof

    heavy = sorted(k for k, v in kwargs.items() if sizeof(v) > KWARG_LIMIT)
    if heavy:
        raise ValueError(f"TaskStream: keyword argument {', '.join(heavy)} is over {KWARG_LIMIT} bytes; "
                         "scatter it once and pass its future")


class TaskStream:
    """``fn(item, **kwargs)`` for every item on the cluster; iterate for ``(item, value)`` in
    the items' order, whatever order the workers finish in.

    Tasks run roughly in the items' order (Dask runs independent tasks in the order of their
    keys, which are numbered), so the results waiting for an earlier one stay few.

    Parameters
    ----------
    client : distributed.Client
    fn : callable
        Importable by the workers (a module-level function of an installed package).
    items : list
    name : str
        Prefix of the task keys (shown by Dask's diagnostics).
    on_done : callable(item) or None
        Called as each task finishes, in the order they finish (a progress bar's feed).
    on_error : callable(item, exc) -> value, or None
        For a task that raised (``KilledWorker`` included): the value to yield instead, or
        raise. Default: raise the task's exception.
    **kwargs
        Passed to every call of ``fn``.

    Attributes
    ----------
    retried : int
        Tasks that were on a worker when it left the cluster and were sent to another.
    """

    def __init__(self, client, fn, items, *, name, on_done=None, on_error=None, **kwargs):
        self.client, self.fn, self.items, self.kwargs = client, fn, list(items), kwargs
        self.name, self.on_done, self.on_error = name, on_done, on_error
        self.retried = 0
        self._keys = set()
        self._lock = threading.Lock()

    def __iter__(self):
        from distributed import as_completed

        _check_light(self.kwargs)
        token = uuid.uuid4().hex[:12]
        keys = [f"{self.name}-{token}-{i:09d}" for i in range(len(self.items))]
        self._keys = set(keys)
        index = {k: i for i, k in enumerate(keys)}
        topic = "all"  # the scheduler's own events: a worker leaving says which tasks it held
        self.client.subscribe_topic(topic, self._on_event)
        futures = self.client.map(self.fn, self.items, key=keys, pure=False, **self.kwargs)
        waiting, nxt = {}, 0
        try:
            for fut, value in as_completed(futures, with_results=True, raise_errors=False, loop=self.client.loop):
                i = index[fut.key]
                futures[i] = None  # released: the worker may drop the result
                if fut.status == "cancelled":
                    reason = getattr(value, "reason", None) or first_line(value)
                    raise ClusterError(f"{self.client.scheduler.address}: the connection to the Dask scheduler was "
                                       f"lost or it cancelled the work ({reason})")
                if fut.status == "error":
                    exc = value[1]
                    if self.on_error is None:
                        raise exc
                    value = self.on_error(self.items[i], exc)
                if self.on_done is not None:
                    self.on_done(self.items[i])
                waiting[i] = value
                while nxt in waiting:
                    yield self.items[nxt], waiting.pop(nxt)
                    nxt += 1
        finally:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(topic)
            left = [f for f in futures if f is not None]
            if left:  # stopped early (an error, Ctrl+C): the cluster should not go on with them
                with contextlib.suppress(Exception):
                    self.client.cancel(left)

    def _on_event(self, event):
        # runs in the client's event-loop thread
        _, msg = event
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        lost = self._keys.intersection(msg.get("processing-tasks") or ())
        if not lost:
            return
        with self._lock:
            self.retried += len(lost)
        how = "was stopped" if msg.get("expected") else "died"
        logger.warning("Dask worker %s %s while it held %d of this run's tasks; they go to other workers",
                       msg.get("worker", "?"), how, len(lost))
