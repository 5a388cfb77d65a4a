"""Session scoring helpers of the benchmarks (no model)."""

import numpy as np

from bench.sessions import RAVDESS_PRIOR, Clip, prior_shift_shares, true_shares, tv_distance
from ser_engine.results import Segment

LABELS = list(RAVDESS_PRIOR)


def _segment(start, label, p_label, seconds=3.0):
    """A segment whose evidence gives ``p_label`` to ``label`` and the rest evenly, read by a model
    trained under the RAVDESS prior (so its probabilities carry that prior, as calibrated ones do)."""
    evidence = {lab: (1 - p_label) / (len(LABELS) - 1) for lab in LABELS}
    evidence[label] = p_label
    total = sum(evidence[lab] * RAVDESS_PRIOR[lab] for lab in LABELS)
    probs = {lab: evidence[lab] * RAVDESS_PRIOR[lab] / total for lab in LABELS}
    return Segment(start, start + seconds, label, probs[label], probs)


def test_a_lopsided_session_is_estimated_lopsided_where_the_mean_probability_regresses_to_even():
    # an all-sad session that the model reads as 45% sad, segment after segment
    segments = [_segment(3.0 * i, "sad", 0.45) for i in range(60)]
    truth = {lab: float(lab == "sad") for lab in LABELS}
    soft = {lab: float(np.mean([s.probabilities[lab] for s in segments])) for lab in LABELS}
    adjusted = prior_shift_shares(segments, LABELS)
    assert tv_distance(soft, truth) > 0.5
    assert tv_distance(adjusted, truth) < 0.1
    assert abs(sum(adjusted.values()) - 1) < 1e-9


def test_a_balanced_session_stays_balanced_and_a_short_clip_keeps_its_probabilities():
    segments = [_segment(3.0 * i, LABELS[i % 8], 0.5) for i in range(64)]
    truth = true_shares([Clip(s.start, s.end, s.label, 0, "") for s in segments], LABELS)
    adjusted = prior_shift_shares(segments, LABELS)
    assert tv_distance(adjusted, truth) < 0.05
    clip = [_segment(0.0, "angry", 0.6)]
    assert abs(prior_shift_shares(clip, LABELS)["angry"] - clip[0].probabilities["angry"]) < 0.1
    assert prior_shift_shares([], LABELS) == {}
