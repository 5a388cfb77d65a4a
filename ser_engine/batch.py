"""Batch analysis of a folder of recordings into one CSV/JSON file or a folder of per-file exports.

The run is resumable and never stops on a bad file:

- CSV and JSON (JSON Lines) outputs are append-only journals: each recording's record is
  written with one ``write`` and flushed to disk (``fsync``) before the next starts. On a
  new run the output is read back; recordings with a complete record (CSV: their last
  ``summary`` row, for "no speech"; JSON: a parseable line) are skipped, and a torn
  record left by a crash is dropped (the cleaned output is rewritten atomically) before
  appending, so no recording is ever listed twice.
- Per-file formats (TextGrid, Audacity, EAF) write each recording's files atomically into
  the output folder (mirroring the input folders); a recording whose files exist is skipped.
  Failures go to ``batch-errors.csv`` there (and are skipped on the next run as well).
- A recording that cannot be analysed becomes an ``error`` row/object with a one-line reason.

Analysis runs in this process, or on a Dask cluster (:mod:`ser_engine.cluster`): an existing
one (``scheduler``, a ``tcp://HOST:PORT`` address) or a LocalCluster of ``workers`` processes on
this machine's loopback. Each worker loads the model once (:mod:`ser_engine.batch_cluster`); the
results come back to this process, which alone writes them, in the folder's sorted order, so
the outputs, the resume and the error rows are those of a run in one process. A worker that
dies mid-run: Dask sends its recordings to the other workers; a recording that takes down
4 workers in a row (a crash, memory) becomes an error row.
"""

import collections
import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

from .atomic import SHARED, atomic_write_text
from .audio import AUDIO_EXTENSIONS, iter_audio_files
from .cluster import first_line  # the module imports no Dask: that happens only when a cluster is used
from .errors import ExportError, SerError
from .exports import (FORMATS, PER_FILE_FORMATS, SUFFIX, audacity_paths, csv_fields, csv_text, export_timeline,
                      timeline_json)
from .results import NO_SPEECH, Failure
from .segments import SegmentConfig, analyse_recording

logger = logging.getLogger(__name__)
ERRORS_FILE = "batch-errors.csv"


@dataclasses.dataclass
class BatchReport:
    total: int = 0
    skipped: int = 0  # already in the output
    done: int = 0
    failed: int = 0
    failures: list = dataclasses.field(default_factory=list)  # Failure objects of this run
    retried: int = 0  # recordings sent to another worker after theirs died
    setup_seconds: float = 0.0  # until the first recording could be sent: model, cluster, checks
    analysis_seconds: float = 0.0  # the analyses themselves, summed over recordings (workers' time)


def run_batch(root, out, *, fmt="csv", workers=1, scheduler=None, model=None, config=SegmentConfig(), progress=True,
              on_file=None, reviews=True):
    """Analyse every recording under ``root`` into ``out``; returns a :class:`BatchReport`.

    Parameters
    ----------
    root : str or Path
        A folder (walked recursively) or one file.
    out : str or Path
        The CSV/JSON file, or the folder for per-file formats.
    fmt : str
        One of :data:`~ser_engine.exports.FORMATS`.
    workers : int
        Processes analysing in parallel: 1, in this process; more, a LocalCluster of that many
        worker processes on loopback. Ignored with ``scheduler``.
    scheduler : str or None
        A Dask scheduler's address (``tcp://HOST:PORT``): its workers analyse. They must read
        the recordings and the model at the paths this machine uses (checked before starting).
    model : str or Path or None
        A bundle instead of the active one.
    progress : bool
        Show a tqdm progress bar on stderr.
    on_file : callable(path, result) or None
        Called after each recording is written (result: Timeline or Failure).
    reviews : bool
        Include each recording's saved clinician review (looked up by content hash).

    Raises
    ------
    ExportError
        The output cannot be used (a file where a folder is needed, another model's CSV...).
    ModelLoadError
        No usable model.
    ClusterError
        No scheduler or workers, a worker that cannot read a recording or the model, or the
        scheduler lost mid-run (what was written is kept; the next run resumes).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    # absolute paths: the output names recordings the same way whatever the working folder
    root, out = Path(os.path.abspath(root)), Path(out)
    paths = list(iter_audio_files([root]))
    base = root if root.is_dir() else root.parent
    from .models import resolve_bundle

    bundle, warning = resolve_bundle(model)
    if warning:
        logger.warning(warning)
    with _output_errors(out):
        sink = _FolderSink(out, fmt, base) if fmt in PER_FILE_FORMATS else _JournalSink(out, fmt, bundle.labels)
    todo = [p for p in paths if not sink.has(p)]
    report = BatchReport(total=len(paths), skipped=len(paths) - len(todo))
    bar = _progress_bar(len(paths), report.skipped, progress)
    advance = bar.update if bar is not None else (lambda n=1: None)
    try:
        for path, result in _analyse_all(todo, bundle, config, workers, scheduler, report, advance):
            review = _review_of(result) if reviews and result.ok else None
            with _output_errors(out):
                sink.write(path, result, review)
            if result.ok:
                report.done += 1
            else:
                report.failed += 1
                report.failures.append(result)
                logger.warning("%s: %s", result.path, result.error)
            if on_file is not None:
                on_file(path, result)
    finally:
        if bar is not None:
            bar.close()
    return report


@contextlib.contextmanager
def _output_errors(out):
    """An OSError on the output (read-only folder, disk full) ends the batch with one line:
    without a place to write, going on would only lose the work."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or first_line(exc)
        raise ExportError(f"{out}: cannot be written ({reason})") from None


def _progress_bar(total, initial, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="file", file=sys.stderr, dynamic_ncols=True)


def _review_of(timeline):
    from .review import load_review, review_path

    if not timeline.sha256 or not review_path(timeline.sha256).exists():
        return None
    try:
        return load_review(sha256=timeline.sha256)
    except SerError as exc:
        logger.warning("%s", exc)
        return None


# -- analysis, in this process or on a cluster ---------------------------------------------------


def analyse_one(predictor, config, path):
    """A Timeline (without its overview, which the batch does not need) or a Failure."""
    try:
        tl = analyse_recording(predictor, path, config=config)
        tl.overview = None
        return tl
    except SerError as exc:
        return Failure(str(path), getattr(exc, "reason", None) or str(exc))
    except Exception as exc:  # never stop a batch on one file; say what happened in one line
        return Failure(str(path), f"unexpected error: {type(exc).__name__}: {first_line(exc)}")


def _analyse_all(paths, bundle, config, workers, scheduler, report, advance):
    """``(path, result)`` in the order of ``paths``; ``advance()`` as each analysis ends."""
    if not paths:
        return
    if scheduler is None and workers <= 1:
        from .predictor import Predictor
        from .runtime import quiet_tensorflow

        t0 = time.perf_counter()
        quiet_tensorflow()
        predictor = Predictor(bundle)
        predictor.warm_up()  # the model and first-use imports now, as on a worker: set-up, not the first file
        report.setup_seconds = time.perf_counter() - t0
        for p in paths:
            t = time.perf_counter()
            result = analyse_one(predictor, config, p)
            report.analysis_seconds += time.perf_counter() - t
            advance()
            yield p, result
        return
    yield from _analyse_on_cluster(paths, bundle, config, workers, scheduler, report, advance)


def _analyse_on_cluster(paths, bundle, config, workers, scheduler, report, advance):
    from . import batch_cluster as bc
    from .cluster import ClusterError, TaskStream, first_line, open_client

    t0 = time.perf_counter()
    with open_client(scheduler, workers=workers) as client:
        where = scheduler or "the local Dask cluster"
        plugin = bc.ModelPlugin(bundle.source, bc.bundle_fingerprint(bundle))
        try:
            client.register_plugin(plugin, name=plugin.name)
        except SerError as exc:  # a worker cannot use the model
            raise ClusterError(str(exc)) from None
        except Exception as exc:  # e.g. SER Studio missing on a worker: the plugin does not unpickle
            raise ClusterError(f"{where}: the Dask workers could not set up the model ({type(exc).__name__}: "
                               f"{first_line(exc)}); is SER Studio installed on them, in the same version?") from None
        try:
            bc.prepare_workers(client, plugin, bc.samples_of(paths))
        except bc.WorkerSetupError as exc:
            raise ClusterError(str(exc)) from None
        report.setup_seconds = time.perf_counter() - t0

        def on_error(path, exc):
            from distributed import KilledWorker

            if isinstance(exc, KilledWorker):  # this recording took down worker after worker
                return bc.TaskOutcome(Failure(str(path), f"its analysis stopped {exc.allowed_failures + 1} Dask "
                                                         "workers (a crash, or out of memory)"), 0.0, "")
            if isinstance(exc, bc.WorkerSetupError):
                raise ClusterError(str(exc)) from None
            raise ClusterError(f"{path}: the analysis failed on {where} ({type(exc).__name__}: "
                               f"{first_line(exc)})") from None

        stream = TaskStream(client, bc.analyse_task, paths, name="ser-batch", on_done=lambda p: advance(),
                            on_error=on_error, plugin_name=plugin.name, config=config)
        try:
            for path, outcome in stream:
                if outcome.unreadable and bc.cannot_open(path) is None:
                    raise bc.unreadable_error(outcome.worker, path, outcome.unreadable)
                report.analysis_seconds += outcome.seconds
                report.retried = stream.retried
                yield path, outcome.result
        except ClusterError as exc:
            written = report.done + report.failed
            if written:  # say that nothing written is lost
                raise ClusterError(f"{exc}; what was written is kept ({written} of {len(paths)} recordings): "
                                   "run the same command again to resume") from None
            raise
        report.retried = stream.retried


# -- outputs ------------------------------------------------------------------------------------


class _JournalSink:
    """One CSV or JSON Lines file, appended record by record; resumable."""

    def __init__(self, out, fmt, labels):
        if out.is_dir():
            raise ExportError(f"{out}: is a folder; --out must be a {fmt.upper()} file for --format {fmt}")
        self.out, self.fmt, self.labels = out, fmt, list(labels)
        self.done = set()
        if out.exists() and out.stat().st_size:
            self._recover()
        else:
            header = ",".join(csv_fields(self.labels)) + "\n" if fmt == "csv" else ""
            atomic_write_text(out, header, mode=SHARED)  # an export: others may open it

    def has(self, path):
        return str(path) in self.done

    def _recover(self):
        text = self.out.read_text(encoding="utf-8", errors="replace")
        keep = self._recover_csv(text) if self.fmt == "csv" else self._recover_json(text)
        if keep != text:
            logger.warning("%s: dropped an incomplete record left by an interrupted run", self.out)
            atomic_write_text(self.out, keep, mode=SHARED)

    def _recover_json(self, text):
        """The complete records of an earlier run; only its last line may be torn. Anything
        else is not this command's output and is refused, never rewritten."""
        lines = []
        all_lines = text.splitlines(keepends=True)
        for i, line in enumerate(all_lines):
            torn = i == len(all_lines) - 1 and not line.endswith("\n")
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if torn:
                continue
            if not _is_batch_record(obj):
                raise ExportError(f"{self.out}: is not the output of an earlier `ser batch` (line {i + 1}); "
                                  "choose another --out")
            if obj["path"] not in self.done:
                self.done.add(obj["path"])
                lines.append(line)
        return "".join(lines)

    def _recover_csv(self, text):
        head, _, body = text.partition("\n")
        if head.split(",") != csv_fields(self.labels):
            raise ExportError(f"{self.out}: was written with other columns (another model, or an older SER Studio?); "
                              "choose another --out")
        rows = list(csv.reader(io.StringIO(body)))
        fields = csv_fields(self.labels)
        i_file, i_row, i_label = fields.index("file"), fields.index("row"), fields.index("label")
        complete = set()
        for r in rows:
            if len(r) == len(fields) and (r[i_row] == "error" or (r[i_row] == "summary" and r[i_label] == NO_SPEECH)):
                complete.add(r[i_file])
        if body and not body.endswith("\n"):
            complete.discard(rows[-1][i_file] if rows and rows[-1] else None)
        kept = [r for r in rows if len(r) == len(fields) and r[i_file] in complete]
        self.done = complete
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(kept)
        return head + "\n" + buf.getvalue()

    def write(self, path, result, review):
        if self.fmt == "csv":
            text = csv_text([result if not result.ok else (result, review)], self.labels, header=False)
        else:
            obj = timeline_json(result, review) if result.ok else result.to_dict()
            text = json.dumps(obj, ensure_ascii=False) + "\n"
        with open(self.out, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        self.done.add(str(path))


def _audio_stems(folder):
    """How many recordings of each stem a folder holds (read once per folder by a sink)."""
    try:
        names = [p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS]
    except OSError:
        names = []
    return collections.Counter(p.stem for p in names)


def _is_batch_record(obj):
    """A JSON line `ser batch` writes: a timeline (with its model) or a failure (with its error)."""
    return isinstance(obj, dict) and isinstance(obj.get("path"), str) and ("model" in obj or "error" in obj)


class _FolderSink:
    """Per-file exports in a folder that mirrors the input folders; resumable."""

    def __init__(self, out, fmt, base):
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out}: is a file; --out must be a folder for --format {fmt}")
        out.mkdir(parents=True, exist_ok=True)
        self.out, self.fmt, self.base = out, fmt, base
        self._stems = {}  # folder -> Counter of its recordings' stems
        self.errors = out / ERRORS_FILE
        self.failed = set()
        if self.errors.exists():
            with open(self.errors, encoding="utf-8", newline="") as fh:
                self.failed = {r["file"] for r in csv.DictReader(fh) if r.get("file")}

    def dest(self, path):
        """Where ``path``'s export goes: the mirrored folder and its stem (``a.wav`` → ``a.TextGrid``),
        or its whole name (``a.wav.TextGrid``) where another recording of that stem lies beside it,
        so ``a.wav`` and ``a.flac`` never write over each other."""
        path = Path(path)
        rel = path.resolve().relative_to(self.base.resolve()) if self.base else Path(path.name)
        if path.parent not in self._stems:
            self._stems[path.parent] = _audio_stems(path.parent)
        name = rel.name if self._stems[path.parent][path.stem] > 1 else rel.stem
        return self.out / rel.with_name(name + (SUFFIX[self.fmt] if self.fmt != "audacity" else ""))

    def files(self, path):
        d = self.dest(path)
        return list(audacity_paths(d)) if self.fmt == "audacity" else [d]

    def has(self, path):
        return str(path) in self.failed or all(f.exists() for f in self.files(path))

    def write(self, path, result, review):
        if result.ok:
            export_timeline(result, self.dest(path), self.fmt, review=review)
            return
        new = not self.errors.exists()
        with open(self.errors, "a", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            if new:
                w.writerow(["file", "error"])
            w.writerow([result.path, result.error])
            fh.flush()
            os.fsync(fh.fileno())
        self.failed.add(str(path))
