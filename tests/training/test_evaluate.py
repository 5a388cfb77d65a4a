import numpy as np
import pytest

from tests.conftest import TINY, make_mini_dataset, requires_data
from training.evaluate import _cross_fitted_ece, actor_folds, pick_validation
from training.metrics import expected_calibration_error, fit_temperature, uncertain_threshold
from ser_engine.inference import softmax


def _logits(rng, n, scale, accuracy):
    labels = rng.integers(0, 8, n)
    logits = rng.standard_normal((n, 8))
    right = rng.random(n) < accuracy
    top = np.where(right, labels, (labels + 1) % 8)
    logits[np.arange(n), top] += 3.0
    return logits * scale, labels


def test_cross_fitted_ece_does_not_score_the_temperature_on_its_own_data(rng):
    # Fold 0 is over-confident, fold 1 under-confident: one temperature fitted on both looks
    # fine in-sample, but each fold, calibrated from the other, is badly off.
    a, ya = _logits(rng, 400, 4.0, 0.6)
    b, yb = _logits(rng, 400, 0.3, 0.6)
    logits, labels = np.concatenate([a, b]), np.concatenate([ya, yb])
    folds = np.repeat([0, 1], 400)
    in_sample = expected_calibration_error(softmax(logits, fit_temperature(logits, labels)), labels)
    cross = _cross_fitted_ece(logits, labels, folds)
    assert cross > in_sample + 0.05


def test_cross_fitted_ece_matches_when_folds_agree(rng):
    logits, labels = _logits(rng, 1200, 2.0, 0.6)
    folds = np.arange(1200) % 5
    in_sample = expected_calibration_error(softmax(logits, fit_temperature(logits, labels)), labels)
    assert abs(_cross_fitted_ece(logits, labels, folds) - in_sample) < 0.03


def test_folds_mix_sexes_and_validation_comes_from_training_actors():
    folds = actor_folds(range(1, 21), 5)
    assert folds[0] == [1, 6, 11, 16]
    assert sorted(a for f in folds for a in f) == list(range(1, 21))
    val = pick_validation([a for a in range(1, 21) if a not in folds[0]], 2)
    assert len(val) == 2 and {v % 2 for v in val} == {0, 1} and not set(val) & set(folds[0])


def _top_class_probs(conf, top):
    """Probabilities whose top class is ``top`` with confidence ``conf`` (the rest is unused)."""
    return np.where(np.arange(8)[None, :] == top[:, None], conf[:, None], 0.0)


def test_uncertain_threshold_is_where_labels_become_more_often_right_than_wrong(rng):
    n = 20000
    conf = rng.uniform(0.15, 1.0, n)
    labels = rng.integers(0, 8, n)
    # Perfectly calibrated: a label of confidence c is right with probability c.
    top = np.where(rng.random(n) < conf, labels, (labels + 1) % 8)
    assert abs(uncertain_threshold(_top_class_probs(conf, top), labels) - 0.5) <= 0.03
    # Over-confident: right only with probability c - 0.2, so the threshold moves up.
    top = np.where(rng.random(n) < conf - 0.2, labels, (labels + 1) % 8)
    assert abs(uncertain_threshold(_top_class_probs(conf, top), labels) - 0.7) <= 0.03
    # Never right: every label is uncertain.
    assert uncertain_threshold(_top_class_probs(conf, top), (top + 1) % 8) == 1.0


@requires_data
def test_each_fold_scores_its_final_model_on_its_validation_actors_and_other_conditions(tmp_path):
    """The accuracy benchmark chooses levers on this score; for an ensemble it must be the
    whole ensemble's, not the first member's history."""
    from training.cache import extract_training_features
    from training.config import TrainConfig
    from training.dataset import discover
    from training.evaluate import cross_validate

    ds = discover(make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=1))
    for ensemble in (1, 2):
        cfg = TrainConfig(folds=3, val_actors=1, **{**TINY, "ensemble": ensemble})
        feats, _, _ = extract_training_features([it.path for it in ds.items], config=cfg.feature,
                                                speeds=cfg.speeds, noise_snrs=(30,), workers=1)
        cv = cross_validate(ds, feats, cfg, tta=True, noisy_snrs=(30,))
        for fold, history in zip(cv.folds, cv.histories):
            assert 0.0 <= fold["val_accuracy"] <= 1.0
            assert set(fold["val_accuracy_extra"]) == {"tta", "snr30"}
            assert all(0.0 <= v <= 1.0 for v in fold["val_accuracy_extra"].values())
            if ensemble == 1:  # one model: its restored best epoch's score
                assert fold["val_accuracy"] == pytest.approx(history[fold["best_epoch"] - 1].val_accuracy)
        # test-time augmentation and the noisy copies are scored on the same models, every
        # file once, out of fold
        for condition in ("tta", "snr30"):
            for mode in ("global", "speaker"):
                assert not np.isnan(cv.extra_oof[condition][mode]).any()
                assert len(cv.summary[mode]["extra"][condition]["accuracy"]["folds"]) == 3
    # the app's training scores neither (it would only cost time)
    assert cross_validate(ds, feats, cfg, only_folds=[0]).extra_oof == {}


def test_test_time_augmentation_averages_the_copies_each_with_its_own_baseline():
    from ser_engine.normalise import FeatureStats
    from training.config import TrainConfig
    from training.dataset import Item
    from training.train import file_logits, tta_file_logits

    class Mean:  # a "model": class scores from the mean of each window
        output_shape = (None, 8)

        def predict_on_batch(self, batch):
            z = np.stack([batch.mean(axis=(1, 2)) * k for k in range(8)], 1)
            e = np.exp(z - z.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

    rng = np.random.default_rng(0)
    cfg = TrainConfig(speeds=(0.9, 1.1))
    nf = cfg.feature.n_features
    items = [Item(f"/x/{i}.wav", 1, emotion, "normal", 1, 1) for i, emotion in enumerate(("happy", "sad", "calm"))]
    feats = {}
    for it in items:
        feats[it.path] = rng.standard_normal((350, nf)).astype(np.float32)
        for s in cfg.speeds:
            feats[(it.path, s)] = feats[it.path] + s  # each copy shifted by its own offset
    stats = {None: FeatureStats(np.zeros(nf, np.float32), np.ones(nf, np.float32))}
    stats.update({s: FeatureStats(np.full(nf, s, np.float32), np.ones(nf, np.float32)) for s in cfg.speeds})
    # with each copy's baseline removing its shift, every version scores like the recording
    tta = tta_file_logits(Mean(), items, feats, lambda it, s: stats[s], cfg=cfg)
    plain = file_logits(Mean(), items, feats, lambda it: stats[None], cfg=cfg)
    np.testing.assert_allclose(tta, plain, atol=1e-5)
    # with one baseline for all, the copies differ and the average is theirs
    one = tta_file_logits(Mean(), items, feats, lambda it, s: stats[None], cfg=cfg)
    assert not np.allclose(one, plain, atol=1e-3)

