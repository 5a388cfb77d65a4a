"""The analysis worker, called directly (in the test's thread) to pin down job ordering."""

from desktop.analysis_worker import AnalysisWorker
from desktop.session import Job
from tests.conftest import ravdess_files, requires_data

pytestmark = requires_data


def _worker():
    worker = AnalysisWorker()
    failed = []
    worker.model_failed.connect(failed.append)
    worker.load_model()
    assert not failed, failed
    results, finished = [], []
    worker.result_ready.connect(results.append)
    worker.job_finished.connect(finished.append)
    return worker, results, finished


def test_a_cancel_pressed_while_the_job_waits_behind_a_model_switch_is_kept(qapp):
    worker, results, finished = _worker()
    clip = str(ravdess_files([1], emotions=[5], per_emotion=1)[0])
    job = worker.next_job()      # the window numbers the job and sends it ...
    worker.load_model()          # ... while the worker is busy switching models ...
    worker.cancel()              # ... and the user presses Cancel before the job starts.
    worker.analyse(Job([clip]), job)
    assert results == [] and finished == [[clip]]
    # Cancel applies to the jobs sent so far only: the next one runs.
    worker.analyse(Job([clip]), worker.next_job())
    assert len(results) == 1 and results[0].ok


def test_speaker_group_jobs_honour_an_early_cancel_too(qapp):
    worker, results, finished = _worker()
    clips = [str(p) for p in ravdess_files([2], emotions=[1, 5], per_emotion=1)]
    job = worker.next_job()
    worker.cancel()
    worker.analyse(Job(clips, True), job)
    assert results == [] and finished == [clips]
