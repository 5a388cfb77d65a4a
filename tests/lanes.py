"""The test lanes (a pytest plugin, loaded from pyproject.toml): a test that uses the
``tiny_bundle`` fixture trains a model once per session (tens of seconds) and is marked
``trains``, so ``make test-fast`` (``-m "not slow and not gui and not trains"``) leaves it out.
``make test`` runs every lane."""

import pytest

#: Fixtures that train a model or start the app: what makes a test too slow for the edit loop.
SLOW_FIXTURES = frozenset({"tiny_bundle"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.trains)
