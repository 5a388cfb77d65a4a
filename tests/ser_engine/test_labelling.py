"""The one labelling core: windows of speech regions, smoothing, segments and the answer."""

import numpy as np
import pytest

from ser_engine.labelling import (
    Labeller,
    calibrated,
    fit_profile_temperature,
    plan_windows,
    recording_answer,
    share_profile,
    window_inputs,
)
from ser_engine.normalise import FeatureStats
from ser_engine.results import NO_SPEECH

LABELS = ("a", "b", "c")


@pytest.mark.parametrize("n, expected", [(50, [0]), (300, [0]), (301, [0, 1]), (550, [0, 100, 200, 250])])
def test_windows_cover_the_tail_of_a_region(n, expected):
    plan = plan_windows([(10, 10 + n)], 10 + n + 5, length=300, hop=100)
    assert (plan.starts - 10).tolist() == expected
    # the elements tile the recording: no speech before, the region's elements, no speech after
    assert plan.elements[0] == (0, 10, -1) and plan.elements[-1] == (10 + n, 15 + n, -1)
    spans = [(lo, hi) for lo, hi, _ in plan.elements]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_a_short_region_is_centred_and_zero_padded_and_long_ones_are_slices(rng):
    X = rng.standard_normal((900, 4)).astype(np.float32)
    regions = [(100, 200), (300, 850)]
    plan = plan_windows(regions, 900, length=300, hop=100)
    stats = FeatureStats(np.zeros(4, np.float32), np.ones(4, np.float32))
    x = window_inputs([X[lo:hi] for lo, hi in regions], regions, stats, plan, np.arange(plan.n_windows), 300)
    np.testing.assert_array_equal(x[0, 100:200], X[100:200])
    assert not x[0, :100].any() and not x[0, 200:].any()
    for k in range(1, plan.n_windows):
        s = plan.starts[k]
        np.testing.assert_array_equal(x[k], X[s:s + 300])
    assert set(plan.region.tolist()) == {0, 1}  # no window crosses the gap between regions


def _labeller(plan, smooth=3, temperature=1.0):
    return Labeller(plan, labels=LABELS, temperature=temperature, uncertain_below=0.5, rate=100.0,
                    duration=plan.elements[-1][1] / 100, smooth=smooth)


def test_segments_do_not_depend_on_how_windows_arrive(rng):
    plan = plan_windows([(50, 1500), (1700, 1900), (2000, 3500)], 3600, length=300, hop=100)
    logp = np.log(rng.dirichlet(np.ones(3) * 0.5, plan.n_windows))
    whole = _labeller(plan)
    whole.add(logp)
    streamed = _labeller(plan)
    got = []
    for a in range(0, plan.n_windows, 3):
        got += streamed.add(logp[a:a + 3])
    assert got == whole.segments
    assert streamed.answer() == whole.answer()
    assert [s.label for s in got].count(NO_SPEECH) == 4  # before, between (twice) and after the regions


def test_the_answer_is_the_time_weighted_mean_of_the_segments(rng):
    plan = plan_windows([(0, 1200), (1500, 2600)], 2700, length=300, hop=100)
    lab = _labeller(plan, temperature=1.7)
    lab.add(np.log(rng.dirichlet(np.ones(3), plan.n_windows)))
    answer = lab.answer()
    speech = [s for s in lab.segments if s.is_speech]
    mean = sum(np.array([s.probabilities[k] for k in LABELS]) * s.duration for s in speech)
    mean /= sum(s.duration for s in speech)
    np.testing.assert_allclose([answer.probabilities[k] for k in LABELS], mean, atol=1e-9)
    assert answer.label == max(answer.probabilities, key=answer.probabilities.get)
    assert answer.confidence == pytest.approx(max(answer.probabilities.values()))
    assert sum(answer.probabilities.values()) == pytest.approx(1)


def test_a_recording_without_speech_answers_no_speech():
    plan = plan_windows([], 500, length=300, hop=100)
    lab = _labeller(plan)
    lab.add(np.zeros((0, 3)))
    assert [s.label for s in lab.segments] == [NO_SPEECH]
    answer = lab.answer()
    assert answer.label == NO_SPEECH and answer.confidence is None and not answer.uncertain
    assert recording_answer(np.zeros((0, 3)), np.zeros(0), LABELS, 0.5).label == NO_SPEECH


def test_smoothing_stays_inside_a_region():
    plan = plan_windows([(0, 500), (600, 900)], 900, length=300, hop=100)
    logp = np.log(np.array([[0.9, 0.05, 0.05]] * 3 + [[0.05, 0.9, 0.05]]))  # 3 windows, then 1
    lab = _labeller(plan, smooth=5)
    lab.add(logp)
    speech = [s.label for s in lab.segments if s.is_speech]
    assert speech == ["a", "b"]  # the second region's window is not pulled towards the first's


def test_a_fitted_temperature_recovers_the_one_that_made_the_labels(rng):
    true_t, n = 2.5, 3000
    z = rng.normal(0, 3, (n, 3))
    p = calibrated(z, true_t)
    labels = np.array([rng.choice(3, p=q) for q in p])
    t = fit_profile_temperature([row[None] for row in z], [np.ones(1)] * n, labels)
    assert t == pytest.approx(true_t, rel=0.1)


def test_share_profile_weighs_by_time():
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(share_profile(p, np.array([3, 1])), [0.75, 0.25])
    assert share_profile(p[:0], np.zeros(0)) is None
