from training.cli import _Progress
from training.train import EpochLog


def _events():
    yield {"phase": "scan", "dataset": {"files": 100, "actors": [1, 2], "skipped": 0}}
    for done in range(0, 101, 5):
        yield {"phase": "features", "done": done, "total": 100, "cached": 0}
    for epoch in range(1, 31):
        yield {"phase": "fold", "fold": 1, "folds": 5, "epoch": EpochLog(epoch, 1.0, 0.5, 1.1, 0.4)}


def test_progress_into_a_file_is_a_line_per_epoch_not_per_refresh(capsys):
    """A bar writes a line per refresh when stderr is not a terminal: a quick rebuild's log
    grew to thousands of lines (issue: the Analyse tab's defects, 11)."""
    progress = _Progress(tty=False)
    for event in _events():
        progress(event)
    progress.close()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err
    assert len(lines) == 1 + 2 + 30  # the scan, the extraction's start and end, one per epoch
    assert lines[-1] == "fold 1/5: epoch 30 loss 1.000 acc 0.50 val_loss 1.100 val_acc 0.40"
