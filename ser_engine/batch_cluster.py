"""The workers' side of ``ser batch`` on a Dask cluster: the model each worker holds, the
analysis task, and the checks made before the first recording is sent.

- **The model, once per worker.** :class:`ModelPlugin` (a Dask worker plugin) verifies the
  bundle at the client's path on every worker, present and future, and refuses one whose
  content differs from the client's (same manifest, so the same files by their sha256). The
  model itself is loaded by the worker thread that first uses it and kept: once per worker
  with one thread per worker (``dask worker --nthreads 1``, and the LocalCluster of
  ``--workers``); one per thread otherwise, since a predictor is not thread-safe. Its runtimes
  (LiteRT, the speech encoder) and its feature threads are :func:`runtime_threads` each: a worker
  process is one core's worth of work, not two per process on a shared machine, unless the user
  gives it more (``OMP_NUM_THREADS``), and then every stage of a recording uses them.
- **A long recording on idle workers.** A recording is one task, so one hour-long recording
  kept one worker busy while the others waited. When a recording holds at least
  :data:`SPREAD_MIN_SPEECH_S` of speech and other workers have nothing to do, its task
  (:class:`ClusterSpreader`) sends the features of its speech, piece by piece, and then its
  speech encoder's groups of chunks to the cluster: each piece and group is a task of its own,
  computed the same way wherever it runs, and the results come back in order, so the
  recording's result is the one worker's. A piece names its samples' place in the file
  (:class:`~ser_engine.stream.FileRange`) where a seek reads them exactly, so each worker reads
  them from the shared storage; only other files' samples are sent. The task secedes from its
  worker's thread pool while it waits, so its own worker computes pieces too; it still decodes
  the audio, finds the speech and labels it. With no idle worker (a batch with more recordings
  than workers) a recording is analysed where it is: the cluster is busy anyway, and a seceded
  task would let its worker start another recording and hold two in memory.
- **Shared storage, checked up front.** Every worker opens the first recording of every folder
  of the batch (one the client can open itself; a file nobody can read is an error row, as in a
  local run) before anything is sent. The task checks its own file again, so a later worker or
  a single unreadable file is caught too: a recording the client can read and a worker cannot
  ends the run with one line naming both, before anything is written for it.
"""

import collections
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import threading
import time

from distributed import WorkerPlugin, get_worker

from .cluster import ClusterError, first_line, workers_of
from .errors import SerError

#: Seconds of speech a recording needs before it is spread over idle workers (about 5 groups
#: of encoder chunks); a shorter one is analysed where it is, as its tasks and transfers would
#: cost more than spreading gives.
SPREAD_MIN_SPEECH_S = 60.0
#: Pieces of work in flight per worker taking part, so none waits between two of them.
IN_FLIGHT_PER_WORKER = 2
#: Priority of a spread recording's tasks over recordings not yet started (Dask runs higher
#: first): a recording under way finishes before the next one starts.
SPREAD_PRIORITY = 10
#: How long the workers' preparation (model load, sample files) may take before the batch
#: starts anyway; a worker still busy with it is covered by each task's own check.
PREPARE_TIMEOUT_S = 120


class WorkerSetupError(SerError):
    """A worker cannot use the batch's model; the message names the worker and the reason."""


def runtime_threads():
    """Threads for a worker's LiteRT, speech encoder and features: ``OMP_NUM_THREADS``, which
    Dask's nanny sets to 1 in every worker process (``distributed.nanny.pre-spawn-environ``) and
    a user may raise for a worker with cores to itself; 1 where it is unset or not a number."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ValueError:
        return 1


def bundle_fingerprint(bundle):
    """The sha256 of a bundle's manifest, which holds the sha256 of every other file."""
    return hashlib.sha256(json.dumps(bundle.manifest, sort_keys=True).encode("utf-8")).hexdigest()


class ModelPlugin(WorkerPlugin):
    """The batch's model bundle on a worker; registered once per bundle (path and content),
    kept while the cluster lives (another run with the same model reuses it)."""

    idempotent = True  # a second registration of the same bundle changes nothing

    def __init__(self, source, fingerprint):
        self.source, self.fingerprint = str(source), fingerprint
        # by path and content: another path is checked on the workers even if its files are the same
        self.name = "ser-model-" + hashlib.sha256(f"{self.source}\0{fingerprint}".encode("utf-8")).hexdigest()[:16]

    def setup(self, worker):
        from .bundle import load_bundle
        from .runtime import quiet_tensorflow

        quiet_tensorflow()
        self.address, self.bundle, self.error = worker.address, None, None
        self._local = threading.local()
        self.loads = 0  # models loaded on this worker (one per thread that analysed)
        self.threads = None  # the runtimes' threads of the last model loaded
        self._group_encoder, self._group_lock = None, threading.Lock()
        self.groups_encoded = 0  # groups of encoder chunks encoded here for spread recordings
        self.spread_recordings = 0  # recordings analysed here whose work was spread over the cluster
        try:
            bundle = load_bundle(self.source)
        except (SerError, OSError) as exc:
            reason = first_line(exc).removeprefix(f"{self.source}: ")
            self.error = (f"{self.source}: the Dask worker {worker.address} cannot use this model ({reason}); "
                          "the workers need the model at the same path as this machine (shared storage)")
        else:
            if bundle_fingerprint(bundle) == self.fingerprint:
                self.bundle = bundle
            else:
                self.error = (f"{self.source}: the Dask worker {worker.address} has another model there than this "
                              "machine (other files); the workers need the same model at the same path")
        if self.error:
            raise WorkerSetupError(self.error)

    def predictor(self):
        """This thread's predictor (model loaded and warmed up on first use)."""
        if self.bundle is None:
            raise WorkerSetupError(self.error or f"worker {self.address}: the model was not set up")
        predictor = getattr(self._local, "predictor", None)
        if predictor is None:
            from .predictor import Predictor

            predictor = Predictor(self.bundle, threads=runtime_threads())
            predictor.spreader = ClusterSpreader(self)
            predictor.warm_up()
            self._local.predictor = predictor
            self.loads += 1
            self.threads = predictor.threads
        return predictor

    def encode_group(self, group):
        """The kept states of a :class:`~ser_engine.encoder.ChunkGroup` of a recording analysed
        elsewhere (or by a seceded task here), with this worker's encoder for groups: one per
        worker, whichever thread runs the group, loaded on first use."""
        from .encoder import SpeechEncoder, encode_group

        with self._group_lock:
            if self._group_encoder is None:
                if self.bundle is None:
                    raise WorkerSetupError(self.error or f"worker {self.address}: the model was not set up")
                self._group_encoder = SpeechEncoder(self.bundle.encoder_spec, threads=runtime_threads())
            states = encode_group(self._group_encoder, group)
            self.groups_encoded += 1
        return states


def encode_group_task(group, plugin_name):
    """One group of a spread recording's encoder chunks, on any worker: its kept states."""
    _, plugin = _plugin(plugin_name)
    return plugin.encode_group(group)


class ClusterSpreader:
    """A worker predictor's ``spreader``: a long recording's features and encoder states
    computed by the idle workers and this one (see the module's docstring).

    ``spread(speech_seconds)`` is entered from inside a task (:func:`analyse_task`).
    """

    def __init__(self, plugin):
        self.plugin = plugin

    @contextlib.contextmanager
    def spread(self, speech_seconds):
        """A :class:`~ser_engine.predictor.Spread` over this worker and the idle ones, or None
        (work here) for less than :data:`SPREAD_MIN_SPEECH_S` of speech or no idle worker."""
        from distributed import worker_client

        from .predictor import Spread

        idle = idle_workers() if speech_seconds >= SPREAD_MIN_SPEECH_S else []
        if not idle:
            yield None
            return
        self.plugin.spread_recordings += 1
        lanes = IN_FLIGHT_PER_WORKER * (len(idle) + 1)
        with worker_client() as client:  # secedes: this worker computes pieces too meanwhile
            pool = _Pool(client)
            yield Spread(pool, lanes, functools.partial(self._groups, pool, lanes))

    def _groups(self, pool, lanes, groups):
        pending: collections.deque = collections.deque()
        todo = iter(groups)

        def top_up():
            for group in todo:
                pending.append(pool.submit(encode_group_task, group, self.plugin.name))
                if len(pending) >= lanes:
                    return

        try:
            top_up()
            while pending:
                states = pending.popleft().result()
                top_up()
                yield states
        finally:  # a failure or a stop: the groups still queued are not wanted
            for fut in pending:
                fut.cancel()


class _Pool:
    """``submit`` of a spread recording's feature pieces: tasks ahead of recordings not started."""

    def __init__(self, client):
        self.client = client

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False, priority=SPREAD_PRIORITY)


def idle_workers():
    """The workers of this task's cluster with no task at all (from a task on a worker)."""
    from distributed import get_client, get_worker

    me = get_worker().address
    try:
        processing = get_client().processing()
    except Exception:  # the scheduler is unreachable now: do not spread, the task's result still is
        return []
    return sorted(w for w, keys in processing.items() if w != me and not keys)


@dataclasses.dataclass
class TaskOutcome:
    """What a worker sends back for one recording."""

    result: object  # Timeline or Failure, exactly as the in-process analysis gives
    seconds: float  # the analysis alone
    worker: str
    unreadable: str = None  # why this worker could not open the file, when it could not


def _plugin(plugin_name):
    worker = get_worker()
    plugin = worker.plugins.get(plugin_name)
    if plugin is None:
        raise WorkerSetupError(f"worker {worker.address}: the model plugin {plugin_name} is not registered")
    return worker, plugin


def worker_config(config):
    """``config`` as a worker runs it: :func:`runtime_threads` feature threads (the result does
    not depend on them)."""
    return dataclasses.replace(config, feature_threads=runtime_threads())


def analyse_task(path, *, plugin_name, config):
    """One recording, on a worker: a :class:`TaskOutcome`."""
    from .batch import analyse_one

    worker, plugin = _plugin(plugin_name)
    predictor = plugin.predictor()
    unreadable = cannot_open(path)
    t0 = time.perf_counter()
    result = analyse_one(predictor, worker_config(config), path)
    return TaskOutcome(result, time.perf_counter() - t0, worker.address, unreadable)


def prepare_task(*, plugin_name, samples):
    """Run once on each worker before the batch: load its model (in the thread that will use
    it) and open each sample recording. Returns ``(worker, path, reason)`` for the first
    sample it cannot open, else ``(worker, None, None)``."""
    worker, plugin = _plugin(plugin_name)
    plugin.predictor()
    for path in samples:
        reason = cannot_open(path)
        if reason:
            return worker.address, path, reason
    return worker.address, None, None


def prepare_workers(client, plugin, samples):
    """Every worker connected now loads its model and opens the sample recordings, before the
    batch starts.

    Raises
    ------
    WorkerSetupError
        A worker cannot use the model.
    ClusterError
        A worker cannot open a sample, or its preparation failed otherwise (e.g. SER Studio is
        not installed there).
    """
    futures = {w: client.submit(prepare_task, plugin_name=plugin.name, samples=samples, workers=[w],
                                allow_other_workers=False, pure=False) for w in workers_of(client)}
    deadline = time.monotonic() + PREPARE_TIMEOUT_S
    try:
        for w, fut in futures.items():
            try:
                worker, path, reason = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                continue  # still busy, or left meanwhile: the tasks' own checks cover that worker
            except (WorkerSetupError, ClusterError):
                raise
            except SerError as exc:  # e.g. a model file the bundle names cannot be loaded there
                raise ClusterError(f"Dask worker {w} cannot use the model ({first_line(exc)})") from None
            except Exception as exc:
                raise ClusterError(f"Dask worker {w} could not prepare the batch ({type(exc).__name__}: "
                                   f"{first_line(exc)}); is SER Studio installed there, in the same version?") from None
            if path:
                raise unreadable_error(worker, path, reason)
    finally:
        client.cancel(list(futures.values()))


def cannot_open(path):
    """None when ``path`` opens for reading here, else the reason in a few words."""
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return exc.strerror or first_line(exc)


def samples_of(paths):
    """The first recording of each folder that this machine can open (the workers must too)."""
    seen, samples = set(), []
    for p in paths:
        folder = os.path.dirname(str(p))
        if folder not in seen and cannot_open(p) is None:
            seen.add(folder)
            samples.append(str(p))
    return samples


def unreadable_error(worker, path, reason):
    return ClusterError(f"{path}: the Dask worker {worker} cannot read it ({reason}), though this machine can; "
                        "the workers need the recordings at the same paths (shared storage)")
