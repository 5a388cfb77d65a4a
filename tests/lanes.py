"""The test lanes (a pytest plugin, loaded from pyproject.toml). ``make test-fast`` runs
``-m "not slow and not gui and not trains"``; ``make test`` runs every lane.

A test is marked ``trains`` here when it uses the ``tiny_bundle`` fixture (a model trained once
per session, tens of seconds) or is listed in :data:`TRAINING_TESTS`: tests that train models
themselves, each over 30 s on the 2-core machine (measured 2026-12-02 with ``--durations``).
Their owners should mark them ``@pytest.mark.slow``; a test so marked can leave the list.
"""

import pytest

#: Fixtures that train a model: a test using one is too slow for the edit loop.
SLOW_FIXTURES = frozenset({"tiny_bundle"})
#: Tests that train models themselves (node ids), with the seconds measured for each.
TRAINING_TESTS = frozenset({
    "tests/training/test_evaluate.py::test_each_fold_scores_its_final_model_on_its_validation_actors_and_other_conditions",  # noqa: E501  193 s
    "tests/training/test_pipeline.py::test_multitask_residual_model_ships_the_emotion_head_only",  # 118 s
    "tests/training/test_pipeline.py::test_an_ensemble_is_one_model_averaging_its_members",  # 92 s
    "tests/training/test_pipeline.py::test_kfold_run_reports_both_modes",  # 92 s
    "tests/training/test_messy_folder.py::test_training_goes_on_with_the_good_files_and_reports_every_skip",  # 59 s
    "tests/training/test_model.py::test_mean_pooling_model_converts_for_litert_and_agrees_with_keras",  # 32 s
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.nodeid in TRAINING_TESTS:
            item.add_marker(pytest.mark.trains)
