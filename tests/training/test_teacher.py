"""The pooled-encoder teacher of distillation (training.teacher) and how its targets reach training."""

from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import ravdess_files, requires_data


def _items(n_actors=8, per_actor=16):
    return [SimpleNamespace(path=f"actor{a}-{k}.flac", actor=a, label=k % 8)
            for a in range(n_actors) for k in range(per_actor)]


def test_teacher_targets_are_probabilities_that_follow_the_states_class_signal(rng):
    from training.teacher import teacher_targets

    items = _items()
    centre = rng.standard_normal((8, 384)) * 0.5  # each emotion shifts the states its own way
    states = {it.path: [(rng.standard_normal((40, 384)) + centre[it.label]).astype(np.float32)] for it in items}
    targets = teacher_targets(items, states, 8)
    p = np.array([targets[it.path] for it in items])
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)
    assert np.mean(p.argmax(1) == [it.label for it in items]) > 0.9


def test_teacher_targets_are_cross_fitted_so_a_recording_never_gets_back_a_label_the_probe_memorised(rng):
    """On states with no class signal at all a probe fitted on the very recordings labels them
    all right (memorised); the cross-fitted targets are at chance, as they must be."""
    from training.teacher import PooledProbe, teacher_targets

    items = _items()
    y = np.array([it.label for it in items])
    states = {it.path: [rng.standard_normal((30, 384)).astype(np.float32)] for it in items}
    S = [states[it.path][0] for it in items]
    assert np.mean(PooledProbe().fit(S, y).predict_proba(S, 8).argmax(1) == y) > 0.9
    crossed = np.array([teacher_targets(items, states, 8)[it.path] for it in items])
    assert np.mean(crossed.argmax(1) == y) < 0.3
    with pytest.raises(ValueError, match="2 actors"):
        teacher_targets(_items(n_actors=1), states, 8)


def test_member_tasks_carry_the_teachers_targets_only_when_distilling(rng):
    from training.config import TrainConfig
    from training.distributed import member_tasks

    items = _items(n_actors=4, per_actor=8)
    states = {it.path: [rng.standard_normal((20, 384)).astype(np.float32)] for it in items}
    plain = member_tasks(items, [], TrainConfig(ensemble=2, distill=0.0), seed=0, states=states)
    assert [t.targets for t in plain] == [None, None]
    tasks = member_tasks(items, [], TrainConfig(ensemble=2, distill=0.5), seed=0, states=states)
    assert tasks[0].targets is tasks[1].targets and set(tasks[0].targets) == {it.path for it in items}
    with pytest.raises(ValueError, match="encoder states"):
        member_tasks(items, [], TrainConfig(distill=0.5), seed=0)


@requires_data
def test_a_distilled_sampler_trains_towards_part_label_part_teacher(rng):
    from ser_engine.segments import group_stats
    from training.cache import extract_training_features
    from training.config import TrainConfig
    from training.dataset import parse_name
    from training.scoring import recordings_of
    from training.train import WindowSampler

    cfg = TrainConfig(speeds=(), noise_snrs=(), front_end={"kind": "classic"}, distill=0.25)
    paths = ravdess_files([1], emotions=[1, 5], per_emotion=2)
    items = [parse_name(p)[0] for p in paths]
    feats, _, _ = extract_training_features(paths, config=cfg.feature, workers=1)
    recs = recordings_of(feats, cfg)
    soft = {it.path: rng.dirichlet(np.ones(8)) for it in items}
    sampler = WindowSampler(items, recs, group_stats(list(recs.values())), {}, cfg, np.random.default_rng(0), soft)
    _, y = sampler.epoch()
    for it, row in zip(items, y, strict=True):
        np.testing.assert_allclose(row, 0.75 * np.eye(8)[it.label] + 0.25 * soft[it.path], rtol=1e-6)
    with pytest.raises(ValueError, match="teacher"):
        WindowSampler(items, recs, group_stats(list(recs.values())), {}, cfg, np.random.default_rng(0))


@requires_data
def test_a_classic_run_with_a_teacher_encodes_only_the_recordings_not_their_copies(tmp_path):
    from training.cache import extract_run_states, extract_training_features
    from training.config import TrainConfig

    cfg = TrainConfig(speeds=(0.9,), noise_snrs=(), front_end={"kind": "classic"}, distill=0.5)
    paths = ravdess_files([2], emotions=[3], per_emotion=2)
    feats, _, _ = extract_training_features(paths, config=cfg.feature, speeds=cfg.speeds, workers=1)
    assert len(feats) == 4  # two recordings, two speed copies
    states = extract_run_states(feats, cfg, cache_root=tmp_path)
    assert set(states) == set(paths)
    assert all(s.shape[1] == 384 for key in paths for s in states[key])
    assert extract_run_states(feats, TrainConfig(front_end={"kind": "classic"}, distill=0.0),
                              cache_root=tmp_path) is None
