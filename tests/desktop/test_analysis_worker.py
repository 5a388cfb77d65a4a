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


def _update(fraction, segments=(), overview=None):
    from ser_engine.segments import BlockUpdate

    return BlockUpdate("labelling", fraction * 10, 10.0, fraction, list(segments), overview)


def test_block_updates_reach_the_window_at_most_20_times_a_second_with_every_segment():
    from desktop.analysis_worker import BlockBatcher

    now = [0.0]
    sent = []
    blocks = BlockBatcher(sent.append, clock=lambda: now[0])
    blocks.add(_update(0.1, ["a"]))  # the first at once: the window shows the file has started
    for i, seg in enumerate(["b", "c", "d"]):  # three more within 30 ms: held, their segments kept
        now[0] += 0.01
        blocks.add(_update(0.2 + 0.1 * i, [seg]))
    assert [u.fraction for u in sent] == [0.1]
    now[0] += 0.03  # 50 ms after the last one sent
    blocks.add(_update(0.5, ["e"]))
    assert [u.fraction for u in sent] == [0.1, 0.5] and sent[1].new_segments == ["b", "c", "d", "e"]
    now[0] += 0.01
    blocks.add(_update(0.9))
    blocks.add(_update(1.0, ["f"]))
    blocks.flush()  # the file is done: the last one goes before its result
    blocks.flush()  # and only once
    assert [u.fraction for u in sent] == [0.1, 0.5, 1.0] and sent[2].new_segments == ["f"]
    assert [s for u in sent for s in u.new_segments] == list("abcdef")


def test_the_update_with_the_overview_is_never_held():
    from desktop.analysis_worker import BlockBatcher

    sent = []
    blocks = BlockBatcher(sent.append, clock=lambda: 0.0)  # the clock stands still: nothing is due
    blocks.add(_update(0.01))
    blocks.add(_update(0.02))
    overview = object()
    blocks.add(_update(0.1, overview=overview))
    assert [u.fraction for u in sent] == [0.01, 0.1] and sent[1].overview is overview
