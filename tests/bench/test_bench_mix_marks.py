"""The mix-marks bench's figures: which labels the second rule newly marks (no model)."""

import pytest

from bench.bench_mix_marks import figures, reliability


def _row(firms, alone, *, role="validation", skewed=True):
    return dict(run="r-0", fold=0, role=role, actor=4, kind="sad only", skewed=skewed, firms=firms, alone=alone,
                mix="recording")


def test_labels_newly_marked_are_counted_right_and_wrong():
    # (found, right, marked): a right label newly marked, a wrong one newly marked, one marked under both,
    # a clip not found
    firms = [(True, True, False), (True, False, False), (True, False, True), (False, False, False)]
    alone = [(True, True, True), (True, False, True), (True, False, True), (False, False, False)]
    f = figures([_row(firms, alone)])
    assert (f["clips"], f["newly"], f["newly_right"]) == (4, 2, 1)
    assert f["wrong_firm"] == pytest.approx(1 / 4) and f["wrong_firm_alone"] == 0.0
    assert f["marked"] == pytest.approx(1 / 3) and f["marked_alone"] == 1.0  # of the clips found
    assert figures([]) is None


def test_reliability_pools_the_found_clips_by_the_confidence_shown():
    firms = [(True, True, False), (True, False, False), (True, True, False), (False, False, False)]
    row = _row(firms, firms) | {"confidence": [0.97, 0.96, 0.55, None]}
    bins = reliability([row])
    assert bins[-1] == (2, 0.5) and bins[1] == (1, 1.0)  # 95-100%: one of two right; 53-60%: one of one
    assert sum(n for n, _ in bins) == 3  # the clip not found has no confidence


def test_the_temperature_figures_read_the_clips_under_their_sessions_own_mix():
    from bench.bench_mix_marks import ece, temperature_figures

    assert ece([(0.9, True), (0.9, False)]) == pytest.approx(0.4)
    firms = [(True, True, False), (True, False, False)]
    own = _row(firms, firms) | {"temperature": {"1.0": {"confidence": [0.95, 0.9], "marked": [False, False],
                                                        "tv": 0.3}}}
    even = _row(firms, firms, skewed=False) | {"mix": "training", "temperature": {
        "1.0": {"confidence": [0.5, 0.5], "marked": [True, True], "tv": 0.1}}}
    f = temperature_figures([own, even], 1.0)
    assert f["marked"] == 0.0 and f["wrong_firm"] == 0.5  # the session under the training mix is left out
    assert (f["tv_balanced"], f["tv_lopsided"]) == (0.1, 0.3)  # ... but not from the share distances
    assert f["ece"] == pytest.approx(abs(0.925 - 0.5))
