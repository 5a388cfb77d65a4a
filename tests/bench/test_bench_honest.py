"""The honest bench's verdicts: a lever against the recipe it changes (no training)."""

import numpy as np

from bench.bench_honest import verdicts


def _run(validation, glob=0.6, all_clips=0.7, rooms=None):
    run = {"validation": [validation] * 5, "conditions": {"global": [glob] * 5, "all": [all_clips] * 5}}
    if rooms is not None:
        run["validation_channels"] = {"room": [rooms] * 5}
    return run


def test_a_lever_is_adopted_only_when_validation_rises_on_every_shared_seed():
    runs = {("encoder_skew", 0): _run(0.72), ("encoder_stats", 0): _run(0.70, glob=0.65),
            ("classic_skew", 0): _run(0.60), ("classic_skew", 1): _run(0.62),
            ("classic_distill", 0): _run(0.63), ("classic_distill", 1): _run(0.62)}
    rows = {line.split(" | ")[0].strip("| `"): line for line in verdicts(runs).splitlines()[2:]}
    assert rows["encoder_stats"].endswith("| no |") and "-2.0 points" in rows["encoder_stats"]
    assert "+5.0 points" in rows["encoder_stats"].split(" | ")[5]  # global 0.65 against 0.60
    # +3 on seed 0, 0 on seed 1: not on every seed
    assert "| 0, 1 |" in rows["classic_distill"] and rows["classic_distill"].endswith("| no |")
    assert "+1.5 ± 2.1 points" in rows["classic_distill"]
    # a lever without its reference's runs on the same seeds is not judged
    assert "both_stats" not in rows


def test_a_lever_that_gains_on_every_seed_is_adopted():
    runs = {("classic", 0): _run(0.59), ("classic_skew", 0): _run(0.63)}
    assert verdicts(runs).splitlines()[2].endswith("| yes |")


def test_the_room_rule_adopts_a_lever_that_gains_in_rooms_on_every_seed_without_losing_clean_on_average():
    ref = {("both_distill", 0): _run(0.74, rooms=0.60), ("both_distill", 1): _run(0.75, rooms=0.61)}
    gains = {("both_distill_room", 0): _run(0.745, rooms=0.66), ("both_distill_room", 1): _run(0.752, rooms=0.64)}
    row = verdicts({**ref, **gains}).splitlines()[2]
    assert row.endswith("| yes (room rule) |") and "+4.5 ± 2.1 points" in row
    # clean validation down on average: the rooms do not buy it
    falls = {("both_distill_room", 0): _run(0.72, rooms=0.66), ("both_distill_room", 1): _run(0.75, rooms=0.64)}
    assert verdicts({**ref, **falls}).splitlines()[2].endswith("| no |")
    # a seed where the rooms did not rise decides against it
    flat = {("both_distill_room", 0): _run(0.745, rooms=0.66), ("both_distill_room", 1): _run(0.752, rooms=0.61)}
    assert verdicts({**ref, **flat}).splitlines()[2].endswith("| no |")
    # runs recorded before the rooms were scored: judged by the clean rule alone
    old = {("both_distill", 0): _run(0.74), ("both_distill_room", 0): _run(0.742, rooms=0.66)}
    assert verdicts(old).splitlines()[2].endswith("| no |") and "| — |" in verdicts(old).splitlines()[2]


def _session(skewed, grid, kind=None):
    return {"skewed": skewed, "kind": kind or ("skewed" if skewed else "balanced"), "default": {"grid": grid}}


def _scores(tv, evidence=None):
    return {"clip_accuracy": 0.7, "tv_soft": tv, "tv_hard": tv, "confident_wrong": 0.1, "evidence": evidence}


def test_the_mix_strength_is_chosen_on_validation_sessions_by_the_mean_of_balanced_and_skewed_distances():
    from bench.bench_honest import MIX_GRID, chosen_mix, mix_key

    keys = [mix_key(m) for m in MIX_GRID]
    # skewed sessions want a weak training mix, balanced ones a strong one; "60" is best on the mean
    balanced = dict(zip(keys, [0.10, 0.30, 0.25, 0.20, 0.12, 0.11, 0.10], strict=True))
    skewed = dict(zip(keys, [0.45, 0.20, 0.22, 0.25, 0.27, 0.35, 0.40], strict=True))
    val = [_session(False, {k: _scores(balanced[k]) for k in keys}),
           _session(True, {k: _scores(skewed[k]) for k in keys})]
    # the test sessions would choose otherwise: they are not read
    test = [_session(True, {k: _scores(0.0 if k == "0" else 1.0) for k in keys})]
    assert chosen_mix([{"validation_sessions": val, "sessions": test}]) == ("60", -np.inf, -np.inf)
    assert chosen_mix([{"sessions": test}]) is None


def test_a_clip_wrong_under_a_segment_marked_uncertain_is_not_counted_as_confidently_wrong():
    from bench.bench_honest import confident_wrong
    from bench.sessions import Clip
    from ser_engine.results import Segment

    clips = [Clip(0, 3, "sad", 0, ""), Clip(4, 7, "sad", 0, ""), Clip(8, 11, "sad", 0, "")]
    segments = [Segment(0, 3.5, "sad", 0.9, {}), Segment(3.5, 7.5, "angry", 0.4, {}, True),
                Segment(7.5, 11, "happy", 0.8, {})]
    assert confident_wrong(segments, clips) == 1 / 3


def test_an_evidence_gate_keeps_the_training_mix_for_a_balanced_session_and_moves_a_lopsided_one():
    from bench.bench_honest import MIX_GRID, chosen_mix, mix_key

    keys = [mix_key(m) for m in MIX_GRID]
    # own mixes help the skewed session (evidence 30) and hurt the balanced one (evidence 3)
    val = [_session(False, {k: _scores(0.10 if k == "off" else 0.20, 3.0) for k in keys}),
           _session(True, {k: _scores(0.40 if k == "off" else 0.25, 30.0) for k in keys})]
    key, gate, _ = chosen_mix([{"validation_sessions": val, "sessions": val}])
    assert key != "off" and 3.0 < gate <= 30.0


def test_a_rate_gate_keeps_a_long_balanced_session_that_gathered_evidence_by_its_length():
    from bench.bench_honest import MIX_GRID, chosen_mix, mix_key

    keys = [mix_key(m) for m in MIX_GRID]

    def scores(tv, evidence, seconds):
        return {**_scores(tv, evidence), "speech_seconds": seconds}

    # the long balanced session's evidence (60) passes any total gate the skewed one (50) passes,
    # but at 0.1 per second it is far below the skewed session's 0.4
    val = [_session(False, {k: scores(0.10 if k == "off" else 0.20, 60.0, 600.0) for k in keys}, "balanced long"),
           _session(True, {k: scores(0.40 if k == "off" else 0.25, 50.0, 125.0) for k in keys})]
    key, gate, rate = chosen_mix([{"validation_sessions": val, "sessions": val}])
    assert key != "off" and gate <= 50.0 and 0.1 < rate <= 0.4
