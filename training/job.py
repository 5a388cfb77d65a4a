"""A training run in a child process: what the desktop Train tab (and ``bench_rebuild``) start.

Why a child process and not a worker thread: TensorFlow then never loads into the app (the
app labels with LiteRT and stays ~0.6 s to first label and light in memory); a crash inside
TensorFlow or an out-of-memory kill ends the child, not the window; and a cancel can always
be made good, first by asking (an Event polled after every batch and every extracted file)
and, if the child does not finish within a grace period, by terminating it. Terminating is
safe because :func:`~training.pipeline.run_training` writes nothing until the final model
is trained and writes every file atomically.

The child sends plain dicts (picklable, no project classes) through a queue:
the pipeline's progress events, ``{"phase": "log", "message"}`` lines, and exactly one
``{"phase": "finished", "status": "ok"|"cancelled"|"failed", ...}`` at the end.
"""

import dataclasses
import datetime
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import time
import traceback
from pathlib import Path

logger = logging.getLogger(__name__)

#: After a cancel is asked, how long the child may take to stop by itself before it is terminated.
CANCEL_GRACE_S = 2.0


def new_run_dir(preset_key, root=None):
    """A fresh folder name for a run under the user's models folder (not created here)."""
    from ser_engine.models import user_models_dir

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) if root else user_models_dir()
    path = base / f"{stamp}-{preset_key}"
    n = 2
    while path.exists():
        path = base / f"{stamp}-{preset_key}-{n}"
        n += 1
    return path


def discard_partial_output(out_dir):
    """After a run was killed: remove what its dead writers left in ``out_dir`` (the
    temporaries of atomic writes, such as a bundle killed mid-conversion), and ``out_dir``
    itself when nothing complete is left in it, so "nothing was written" stays true.

    Returns
    -------
    removed : bool
        True when ``out_dir`` is gone (or never existed).
    """
    from ser_engine.atomic import remove_stale_temporaries

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return True
    for entry in list(out_dir.iterdir()):
        # remove_stale_temporaries(target) clears the dead writers' temporaries of ``target``;
        # the name of a temporary names its target (".<target>.<pid>.<random>.tmp").
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            target = entry.name[1:].rsplit(".", 3)[0]
            remove_stale_temporaries(out_dir / target)
    try:
        out_dir.rmdir()  # only when empty: a complete file or bundle is never removed
    except OSError:
        return False
    return True


def _plain(event):
    """The event with dataclasses (EpochLog) turned into dicts, so the parent needs no imports."""
    out = {}
    for k, v in event.items():
        out[k] = dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
    return out


class _QueueLogHandler(logging.Handler):
    def __init__(self, send):
        super().__init__(logging.INFO)
        self._send = send

    def emit(self, record):
        try:
            self._send({"phase": "log", "message": f"{record.levelname.lower()}: {record.getMessage()}"})
        except Exception:  # a log line must never break training
            pass


def child_main(params, events, stop):
    """Entry point of the child process: run the training and report through ``events``.

    ``params``: ``data_dir``, ``out_dir``, ``preset``, ``overrides`` (TrainConfig fields), and
    optionally ``cache_root``, ``model_id``, ``description``, ``scheduler`` (a Dask scheduler's
    address: its workers extract and train, :mod:`training.distributed`) or ``workers`` (a
    LocalCluster of that many processes, in this child's process group), ``litert`` (False: no
    LiteRT copy in the bundle, :func:`~training.pipeline.run_training`).
    """
    def send(event):
        events.put(_plain(event))

    if hasattr(os, "setpgid"):  # own process group: a terminate also ends the extraction processes
        os.setpgid(0, 0)
    handler = _QueueLogHandler(send)
    for name in ("training", "ser_engine"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    t0 = time.perf_counter()
    try:
        from ser_engine.errors import SerError, TrainingCancelled
        from ser_engine.runtime import quiet_tensorflow

        quiet_tensorflow()
        from .pipeline import run_training
        from .presets import PRESETS

        cfg = PRESETS[params["preset"]].config(**params.get("overrides", {}))
        send({"phase": "start", "config": cfg.to_dict(), "out_dir": params["out_dir"]})
        try:
            outcome = run_training(params["data_dir"], params["out_dir"], cfg, progress=send,
                                   should_stop=stop.is_set, cache_root=params.get("cache_root"),
                                   model_id=params.get("model_id"), description=params.get("description"),
                                   scheduler=params.get("scheduler"), workers=params.get("workers"),
                                   litert=params.get("litert", True))
        except TrainingCancelled as exc:
            send({"phase": "finished", "status": "cancelled", "message": str(exc)})
            return
        except SerError as exc:
            send({"phase": "finished", "status": "failed", "message": str(exc)})
            return
        send({"phase": "finished", "status": "ok", "bundle": str(outcome.bundle_dir),
              "report_dir": str(outcome.report_dir), "seconds": time.perf_counter() - t0})
    except Exception as exc:  # a bug or a broken install: say what, keep the details for the log
        send({"phase": "finished", "status": "failed",
              "message": f"internal error ({type(exc).__name__}: {exc})", "details": traceback.format_exc()})


class TrainingProcess:
    """Starts :func:`child_main` in a spawned process; no Qt, so benches and tests use it too.

    Call :meth:`poll` regularly (the Train tab does it from a QTimer): it returns the events
    that arrived and, once the child has gone without a ``finished`` event (a crash, a kill),
    adds one saying so.
    """

    def __init__(self, params):
        self.params = dict(params)
        ctx = multiprocessing.get_context("spawn")  # never fork a process holding Qt threads
        self._events = ctx.Queue()
        self._stop = ctx.Event()
        self._process = ctx.Process(target=child_main, args=(self.params, self._events, self._stop),
                                    name="ser-training")  # not a daemon: it starts extraction processes
        self._finished = False
        self._cancel_asked_at = None

    def start(self):
        self._process.start()

    @property
    def finished(self):
        return self._finished

    def is_alive(self):
        return self._process.is_alive()

    def cancel(self):
        """Ask the child to stop (it checks after every batch and every extracted file)."""
        if self._cancel_asked_at is None:
            self._cancel_asked_at = time.monotonic()
        self._stop.set()

    def poll(self):
        """The events that arrived since the last call (a list of dicts)."""
        out = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue_module.Empty:
                break
            except (EOFError, OSError):
                break
            out.append(event)
            if event.get("phase") == "finished":
                self._finished = True
        if self._finished:
            return out
        if self._cancel_asked_at is not None and time.monotonic() - self._cancel_asked_at > CANCEL_GRACE_S:
            self.terminate()
            self._finished = True
            discard_partial_output(self.params["out_dir"])
            out.append({"phase": "finished", "status": "cancelled",
                        "message": "training stopped; the active model is unchanged"})
        elif not self._process.is_alive() and self._events.empty():
            code = self._process.exitcode
            self._finished = True
            discard_partial_output(self.params["out_dir"])
            out.append({"phase": "finished", "status": "failed",
                        "message": f"the training process ended unexpectedly (exit code {code}); "
                                   "the active model is unchanged"})
        return out

    def terminate(self):
        """End the child now (a kill leaves no half-written file: every write is atomic)."""
        if self._process.pid is None:
            return
        # Called from the GUI thread: SIGTERM gets half a second, then SIGKILL (which cannot
        # be caught or delayed, so the last join returns as soon as the kernel reaps it).
        for sig, wait_s in ((signal.SIGTERM, 0.5), (getattr(signal, "SIGKILL", signal.SIGTERM), 2.0)):
            if not self._process.is_alive():
                break
            if hasattr(os, "killpg"):
                try:
                    os.killpg(self._process.pid, sig)  # the child and its extraction processes
                except (ProcessLookupError, PermissionError):
                    self._process.terminate()
            else:
                self._process.terminate()
            self._process.join(wait_s)

    def join(self, timeout=None):
        self._process.join(timeout)

    def close(self):
        """Terminate if still running and release the queue."""
        self.terminate()
        self._events.close()
        self._events.join_thread()
