"""Cancelling feature extraction, and where runs are written (the child process itself is
driven end to end by tests/desktop/test_train_tab.py)."""

import pytest

from ser_engine.errors import TrainingCancelled
from ser_engine.features import FeatureConfig
from tests.conftest import ravdess_files, requires_data
from training.cache import FeatureCache, extract_features
from training.job import new_run_dir


@requires_data
def test_a_cancel_stops_extraction_after_the_current_file_and_keeps_what_was_cached(tmp_path):
    paths = ravdess_files([1], emotions=[1, 2, 3], per_emotion=2)
    cache = FeatureCache(FeatureConfig(), tmp_path / "cache")
    polls = []

    def stop():
        polls.append(1)
        return len(polls) >= 2

    with pytest.raises(TrainingCancelled, match="active model is unchanged"):
        extract_features(paths, config=cache.config, cache=cache, workers=1, should_stop=stop)
    assert len(polls) == 2  # polled after each file; stopped after the second
    _, _, n_cached = extract_features(paths, config=cache.config, cache=cache, workers=1)
    assert n_cached == 2


def test_each_run_gets_its_own_folder(tmp_path):
    first = new_run_dir("full", tmp_path)
    first.mkdir()
    second = new_run_dir("full", tmp_path)
    assert second != first and second.parent == tmp_path and second.name.startswith(first.name)
    assert first.name.endswith("-full")
