"""Time left of a run, from the events it sends (a fake clock: no training here)."""

import pytest

from training.progress import WRITE_SECONDS, TrainingEta, format_duration


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def epoch(phase, n, seconds, fold=None, member=0):
    e = {"phase": phase, "epoch": {"epoch": n, "loss": 1.0, "accuracy": 0.5, "seconds": seconds, "member": member}}
    if fold:
        e.update(fold=fold, folds=3)
    return e


def test_extraction_estimate_comes_from_its_measured_rate():
    clock = Clock()
    eta = TrainingEta({"folds": 3, "epochs": 10, "patience": 2}, clock=clock)
    assert eta.remaining() is None
    eta.update({"phase": "features", "done": 0, "total": 100, "cached": 0})
    clock.t = 10
    eta.update({"phase": "features", "done": 25, "total": 100, "cached": 0})
    assert eta.scope() == "phase" and eta.remaining() == pytest.approx(30)
    assert eta.fraction() == pytest.approx(0.25)
    assert eta.phase_text == "Feature extraction: 25 of 100"


def test_an_upper_bound_until_a_fold_ends_then_measured_epochs():
    clock = Clock()
    eta = TrainingEta({"folds": 3, "epochs": 10, "patience": 2, "ensemble": 1}, clock=clock)
    eta.update(epoch("fold", 1, 2.0, fold=1))
    assert eta.is_upper_bound()
    # fold 1: 9 epochs left of at most 10, folds 2-3 at most 10 each, final at most 10
    assert eta.remaining() == pytest.approx((9 + 20 + 10) * 2.0 + WRITE_SECONDS)
    for n in range(2, 7):
        eta.update(epoch("fold", n, 2.0, fold=1))
    eta.update(epoch("fold", 1, 2.0, fold=2))  # fold 1 stopped early after 6 epochs
    assert not eta.is_upper_bound()
    assert eta.phase_text == "Fold 2 of 3: epoch 1 (at most 10)"
    # fold 2: 5 left of ~6; fold 3: ~6; final: ~6 - patience = 4
    assert eta.remaining() == pytest.approx((5 + 6 + 4) * 2.0 + WRITE_SECONDS)
    for fold in (2, 3):
        for n in range(1 if fold == 3 else 2, 7):
            eta.update(epoch("fold", n, 2.0, fold=fold))
    eta.update({"phase": "final", "message": "Training the final model on all actors"})
    eta.update(epoch("final", 1, 4.0))
    assert eta.phase_text == "Final model: epoch 1 of about 4"
    assert eta.remaining() == pytest.approx(3 * (2.0 * 4 + 4.0) / 5 + WRITE_SECONDS)
    eta.update({"phase": "write", "message": "Writing"})
    assert eta.remaining() == WRITE_SECONDS
    eta.update({"phase": "done"})
    assert eta.remaining() == 0.0


def test_format_duration():
    assert format_duration(35.4) == "35 s"
    assert format_duration(250) == "4 min 10 s"
