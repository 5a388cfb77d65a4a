import numpy as np
import pytest

from tests.conftest import TINY, make_mini_dataset, requires_data
from training.evaluate import OutOfFold, _cross_fitted_ece, actor_folds, pick_validation
from training.metrics import expected_calibration_error, uncertain_threshold
from training.scoring import Scores


def _logits(rng, n, scale, accuracy):
    labels = rng.integers(0, 8, n)
    logits = rng.standard_normal((n, 8))
    right = rng.random(n) < accuracy
    top = np.where(right, labels, (labels + 1) % 8)
    logits[np.arange(n), top] += 3.0
    return logits * scale, labels


def _one_element_each(logits):
    """Scores of recordings of one speech element each: their answer is softmax(logits / T)."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return Scores([row[None] for row in logp], [np.ones(1, np.int64)] * len(logp))


def _in_sample_ece(scores, labels):
    return expected_calibration_error(scores.profiles(scores.fit_temperature(labels)), labels)


def test_cross_fitted_ece_does_not_score_the_temperature_on_its_own_data(rng):
    # Fold 0 is over-confident, fold 1 under-confident: one temperature fitted on both looks
    # fine in-sample, but each fold, calibrated from the other, is badly off.
    a, ya = _logits(rng, 400, 4.0, 0.6)
    b, yb = _logits(rng, 400, 0.3, 0.6)
    scores, labels = _one_element_each(np.concatenate([a, b])), np.concatenate([ya, yb])
    folds = np.repeat([0, 1], 400)
    cross = _cross_fitted_ece(OutOfFold(np.arange(800), folds, scores), labels)
    assert cross > _in_sample_ece(scores, labels) + 0.05


def test_cross_fitted_ece_matches_when_folds_agree(rng):
    logits, labels = _logits(rng, 1200, 2.0, 0.6)
    scores = _one_element_each(logits)
    folds = np.arange(1200) % 5
    cross = _cross_fitted_ece(OutOfFold(np.arange(1200), folds, scores), labels)
    assert abs(cross - _in_sample_ece(scores, labels)) < 0.03


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
def test_each_fold_scores_its_final_model_under_every_baseline_condition(tmp_path):
    """The honest protocol: every test actor scored alone, with a balanced baseline, with skewed
    ones and with an enrolment, out of fold; the validation score (what recipes are chosen by)
    is the fold's final model's, for an ensemble the whole ensemble's."""
    from training.cache import extract_training_features
    from training.config import TrainConfig
    from training.dataset import discover
    from training.evaluate import cross_validate
    from training.scoring import CONDITIONS

    ds = discover(make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=2))
    for ensemble in (1, 2):
        cfg = TrainConfig(folds=3, val_actors=1, **{**TINY, "ensemble": ensemble})
        feats, _, _ = extract_training_features([it.path for it in ds.items], config=cfg.feature,
                                                speeds=cfg.speeds, noise_snrs=(30,), workers=1)
        cv = cross_validate(ds, feats, cfg, noisy_snrs=(30,))
        for fold, history in zip(cv.folds, cv.histories, strict=True):
            assert 0.0 <= fold["val_accuracy"] <= 1.0
            assert set(fold["val_accuracy_extra"]) == {"snr30"}
            if ensemble == 1:  # one model: its restored best epoch's score
                assert fold["val_accuracy"] == pytest.approx(history[fold["best_epoch"] - 1].val_accuracy)
        assert set(cv.oof) == {"global", *CONDITIONS, "snr30:global", "snr30:all"}
        n = len(ds.items)
        for c in ("global", "all", "low_arousal", "high_arousal", "random_20", "snr30:global"):
            assert sorted(cv.oof[c].index.tolist()) == list(range(n)), c  # every file once, out of fold
        assert len(cv.oof["single_emotion"].index) == 8 * n  # once per emotion's baseline
        enrolled = [j for j, it in enumerate(ds.items) if it.emotion in ("neutral", "calm") and it.statement == 1]
        assert not set(enrolled) & set(cv.oof["enrolment"].index.tolist())  # the enrolment is not scored
        assert set(cv.summary["conditions"]) == set(cv.oof)
        assert all(0 <= c["mean"] <= 1 for c in cv.summary["conditions"].values())
        assert cv.temperatures["global"] > 0 and cv.temperatures["speaker"] > 0


def test_condition_subsets_are_what_their_names_say():
    from training.dataset import Item
    from training.scoring import HIGH_AROUSAL, LOW_AROUSAL, condition_subsets

    emotions = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    items = [Item(f"/a/{e}-{s}-{r}.wav", 7, e, "normal", s, r) for e in emotions for s in (1, 2) for r in (1, 2)]
    (low, scored), = condition_subsets(items, "low_arousal")
    assert {it.emotion for it in low} == set(LOW_AROUSAL) and scored == items
    (high, _), = condition_subsets(items, "high_arousal")
    assert {it.emotion for it in high} == set(HIGH_AROUSAL)
    singles = condition_subsets(items, "single_emotion")
    assert [{it.emotion for it in base} for base, _ in singles] == [{e} for e in emotions]
    (rand, _), = condition_subsets(items, "random_20")
    assert len(rand) == len(items) // 5 and rand == condition_subsets(items, "random_20")[0][0]  # repeatable
    (enrol, rest), = condition_subsets(items, "enrolment")
    assert {(it.emotion, it.statement) for it in enrol} == {("neutral", 1), ("calm", 1)}
    assert not set(map(id, enrol)) & set(map(id, rest)) and len(enrol) + len(rest) == len(items)
    with pytest.raises(ValueError):
        condition_subsets(items, "everything")


@requires_data
def test_a_baseline_from_too_little_speech_falls_back_to_global_statistics_as_in_the_app():
    from ser_engine.audio import load_audio
    from ser_engine.features import compute_features
    from tests.conftest import ravdess_files
    from training.config import TrainConfig
    from training.scoring import baseline_stats, recordings_of

    cfg = TrainConfig(front_end={"kind": "classic"}, speaker_scale="speaker")
    paths = ravdess_files([2], per_emotion=2)  # 16 clips
    recs = recordings_of({p: compute_features(load_audio(p), config=cfg.feature) for p in paths}, cfg)
    g = _unit_stats(cfg.feature.n_features)
    assert baseline_stats([recs[paths[0]]], g, cfg) is None  # one clip: about 2 s of speech
    enough = baseline_stats(list(recs.values()), g, cfg)
    assert enough is not None and enough.n_frames / cfg.feature.frame_rate >= 10
    centre_only = baseline_stats(list(recs.values()), g,
                                 TrainConfig(front_end={"kind": "classic"}, speaker_scale="global"))
    np.testing.assert_array_equal(centre_only.std, g.std)
    np.testing.assert_array_equal(centre_only.mean, enough.mean)


def _unit_stats(n):
    from ser_engine.normalise import FeatureStats

    return FeatureStats(np.zeros(n, np.float32), np.ones(n, np.float32))
