"""The test lanes (a pytest plugin, loaded from pyproject.toml). ``make test-fast`` runs
``-m "not slow and not gui and not heavy"`` for the edit loop; ``make test`` runs every lane.

A test is marked ``heavy`` when

- it uses the ``tiny_bundle`` fixture (a model trained once per session, tens of seconds), or
- in the last run that ran it, it took more than :data:`FAST_LIMIT_S`, or it used a fixture
  whose setup did (a trained model, an encoder, a long recording built for a module).

The second rule learns from every run: durations are kept in pytest's cache
(``.pytest_cache``, ignored by git), so after one ``make test`` the fast lane leaves out
whatever was slow on this machine, and takes a test back once it has become fast (a full run
measures it again). A fresh clone has no cache: there only the first rule applies.
"""

import time

import pytest

#: A test (its call) or a fixture (its setup) slower than this is kept out of the fast lane.
FAST_LIMIT_S = 5.0
#: Fixtures known to train a model, for a checkout that has no cache yet.
SLOW_FIXTURES = frozenset({"tiny_bundle"})
_TESTS_KEY = "lanes/slow_tests"
_FIXTURES_KEY = "lanes/slow_fixtures"
_test_seconds: dict[str, float] = {}
_fixture_seconds: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    # the fixtures it depends on are set up (and timed) before this hook runs
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    _fixture_seconds[fixturedef.argname] = max(_fixture_seconds.get(fixturedef.argname, 0.0), seconds)


def pytest_runtest_logreport(report):
    if report.when == "call":
        _test_seconds[report.nodeid] = report.duration


def _merge(cache, key, measured):
    """The slow entries of the cache, updated by this run's measurements (fast ones leave)."""
    known = dict(cache.get(key, {}))
    known.update({name: round(seconds, 2) for name, seconds in measured.items()})
    cache.set(key, {name: seconds for name, seconds in known.items() if seconds > FAST_LIMIT_S})


def pytest_sessionfinish(session):
    cache = getattr(session.config, "cache", None)
    if cache is not None:
        _merge(cache, _TESTS_KEY, _test_seconds)
        _merge(cache, _FIXTURES_KEY, _fixture_seconds)


def pytest_collection_modifyitems(config, items):
    cache = getattr(config, "cache", None)
    slow_tests = cache.get(_TESTS_KEY, {}) if cache is not None else {}
    slow_fixtures = SLOW_FIXTURES | set(cache.get(_FIXTURES_KEY, {}) if cache is not None else {})
    for item in items:
        if slow_fixtures & set(getattr(item, "fixturenames", ())) or item.nodeid in slow_tests:
            item.add_marker(pytest.mark.heavy)
