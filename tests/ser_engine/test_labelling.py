"""The one labelling core: windows of speech regions, smoothing, segments and the answer."""

import numpy as np
import pytest

from ser_engine.labelling import (
    Labeller,
    calibrated,
    fit_profile_temperature,
    mix_evidence,
    plan_windows,
    recording_answer,
    recording_mix,
    reweighted,
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


# -- a recording's own mix of emotions ---------------------------------------------------------

#: A training mix like RAVDESS's (one class half as common as the others).
TRAIN_MIX = np.array([0.2, 0.4, 0.4])


def _read_under_training_mix(evidence):
    """Probabilities a model trained under TRAIN_MIX gives to elements with these likelihoods."""
    p = np.asarray(evidence, float) * TRAIN_MIX
    return p / p.sum(axis=-1, keepdims=True)


def test_a_lopsided_recording_is_estimated_lopsided_where_the_mean_probability_regresses_to_even():
    # every element is class c, read as 47% c (b 35%): the mean stays near even
    probs = _read_under_training_mix(np.tile([0.3, 0.3, 0.4], (200, 1)))
    mix = recording_mix(probs, np.full(200, 300.0), TRAIN_MIX, strength=0.0)
    assert probs[:, 2].mean() < 0.5
    assert mix[2] > 0.9
    moved = share_profile(reweighted(probs, mix, TRAIN_MIX), np.full(200, 300.0))
    assert moved[2] > 0.8 and moved.sum() == pytest.approx(1)


def test_a_balanced_recording_keeps_its_mix_and_strength_holds_a_short_one_near_training():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 300)
    evidence = np.full((300, 3), 0.25)
    evidence[np.arange(300), truth] = 0.5
    probs = _read_under_training_mix(evidence)
    even = np.bincount(truth, minlength=3) / 300
    mix = recording_mix(probs, np.full(300, 100.0), TRAIN_MIX, strength=0.0)
    np.testing.assert_allclose(mix, even, atol=0.1)
    # one element of 1 s against a training mix worth 30 s barely moves
    one = recording_mix(probs[:1], np.array([100.0]), TRAIN_MIX, strength=3000.0)
    np.testing.assert_allclose(one, TRAIN_MIX, atol=0.03)


def gates(evidence):
    """adapt_mix's gates: 30 s of speech, ``evidence`` in all, no rate."""
    return {"min_seconds": 30.0, "min_evidence": evidence, "min_evidence_rate": -np.inf}


def _skewed_labeller(seconds, speakers=None, *, mix_firms=True, mix_temperature=1.0):
    """A labeller over ``seconds`` of speech in 3 s regions, every window read as 47% class c (b 35%);
    the moved probabilities as moved (temperature 1) unless told."""
    regions = [(400 * i + 50, 400 * i + 350) for i in range(int(seconds // 3))]
    plan = plan_windows(regions, 400 * len(regions) + 50, length=300, hop=100)
    lab = Labeller(plan, labels=LABELS, temperature=1.0, uncertain_below=0.5, rate=100.0,
                   duration=plan.elements[-1][1] / 100, smooth=1, speakers=speakers, mix_firms=mix_firms,
                   mix_temperature=mix_temperature)
    lab.add(np.log(_read_under_training_mix(np.tile([0.3, 0.3, 0.4], (plan.n_windows, 1)))))
    return lab


def test_adapting_the_mix_relabels_segments_and_answer_together():
    lab = _skewed_labeller(120)
    before = lab.answer()
    assert before.label == "c" and before.uncertain
    mixes = lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0))
    # 120 s of speech against a training mix worth 30 s: most of the way to all c
    assert set(mixes) == {None} and mixes[None][2] > 0.6
    after = lab.answer()
    assert after.label == "c" and after.confidence > 0.6 and not after.uncertain
    speech = [s for s in lab.segments if s.is_speech]
    assert speech and all(s.confidence > 0.6 for s in speech)
    # the segments still tile the recording, and still average to the answer
    assert lab.segments[0].start == 0
    assert all(a.end == b.start for a, b in zip(lab.segments, lab.segments[1:], strict=False))
    mean = sum(np.array([s.probabilities[k] for k in LABELS]) * s.duration for s in speech)
    np.testing.assert_allclose(mean / sum(s.duration for s in speech),
                               [after.probabilities[k] for k in LABELS], atol=1e-9)


def test_without_mix_firms_the_mix_moves_labels_but_never_lifts_their_mark():
    firm, kept = _skewed_labeller(120), _skewed_labeller(120, mix_firms=False)
    for lab in (firm, kept):
        lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0))
    # the same segments and probabilities; their speech alone read 47%, below the threshold of 50%
    assert [(s.start, s.end, s.label, s.confidence) for s in firm.segments] == \
        [(s.start, s.end, s.label, s.confidence) for s in kept.segments]
    speech = [(a, b) for a, b in zip(firm.segments, kept.segments, strict=True) if a.is_speech]
    assert speech and all(a.confidence > 0.6 and not a.uncertain and b.uncertain for a, b in speech)
    # with the training data's mix kept, the rule changes nothing
    untouched = _skewed_labeller(24, mix_firms=False)
    assert untouched.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0)) == {}
    assert all(s.uncertain for s in untouched.segments if s.is_speech)


def test_a_mix_temperature_softens_the_moved_confidences_and_keeps_every_label():
    moved = _skewed_labeller(120)
    soft = _skewed_labeller(120, mix_temperature=2.0)
    for lab in (moved, soft):
        lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0))
    assert [(s.start, s.end, s.label) for s in moved.segments] == [(s.start, s.end, s.label) for s in soft.segments]
    pairs = [(a.confidence, b.confidence) for a, b in zip(moved.segments, soft.segments, strict=True) if a.is_speech]
    assert pairs and all(b < a for a, b in pairs)
    assert soft.answer().label == moved.answer().label and soft.answer().confidence < moved.answer().confidence


def test_too_little_speech_keeps_the_training_mix():
    lab = _skewed_labeller(24)
    before = (lab.answer(), list(lab.segments))
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0)) == {}
    assert (lab.answer(), lab.segments) == before


def test_each_speaker_gets_their_own_mix_when_they_have_enough_speech():
    n = 40  # 40 regions of 3 s: speaker 0 has 36 (108 s), speaker 1 has 4 (12 s)
    lab = _skewed_labeller(3 * n, speakers=[0 if i % 10 else 1 for i in range(n)])
    mixes = lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0))
    assert set(mixes) == {0}
    assert lab.answer(0).confidence > 0.6 and lab.answer(1).confidence < 0.5


def test_evidence_is_zero_for_the_training_mix_and_grows_with_a_lopsided_recording():
    probs = _read_under_training_mix(np.tile([0.3, 0.3, 0.4], (100, 1)))
    seconds = np.ones(100)
    assert mix_evidence(probs, seconds, TRAIN_MIX, TRAIN_MIX) == pytest.approx(0.0)
    mix = recording_mix(probs, seconds * 100, TRAIN_MIX, strength=0.0)
    short = recording_mix(probs[:30], seconds[:30] * 100, TRAIN_MIX, strength=0.0)
    long_evidence = mix_evidence(probs, seconds, mix, TRAIN_MIX)
    assert long_evidence > 2 * mix_evidence(probs[:30], seconds[:30], short, TRAIN_MIX) > 0


def test_a_mix_without_enough_evidence_is_not_used_but_its_evidence_is_kept():
    lab = _skewed_labeller(120)
    before = (lab.answer(), list(lab.segments))
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(1e9)) == {}
    assert lab.evidence[None] > 0 and (lab.answer(), lab.segments) == before
    assert set(lab.adapt_mix(TRAIN_MIX, strength_seconds=30.0, **gates(0.0))) == {None}


def test_adapting_again_starts_from_the_training_mix():
    lab = _skewed_labeller(120)
    before = (lab.answer(), list(lab.segments))
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=0.0, **gates(-np.inf))
    assert lab.answer().confidence > 0.9
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=0.0, **gates(1e9)) == {}
    assert (lab.answer(), lab.segments) == before


def test_a_mix_needs_its_evidence_per_second_of_speech_too():
    lab = _skewed_labeller(120)
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=0.0, **gates(0.0)) == {None: lab.mixes[None]}
    rate = lab.evidence[None] / lab.speech_seconds[None]
    assert lab.adapt_mix(TRAIN_MIX, strength_seconds=0.0, min_seconds=30.0, min_evidence=0.0,
                         min_evidence_rate=rate * 1.01) == {}
    assert set(lab.adapt_mix(TRAIN_MIX, strength_seconds=0.0, min_seconds=30.0, min_evidence=0.0,
                             min_evidence_rate=rate * 0.99)) == {None}
