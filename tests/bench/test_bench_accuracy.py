"""The accuracy benchmark's bookkeeping: resume, paired deltas, the keep rule (no training)."""

import pytest

from bench import bench_accuracy as ba


def _run(lever, seed, alone, baseline, validation):
    return {"lever": lever, "seed": seed, "minutes": 1.0,
            "global": {"accuracy": [alone] * 5, "ece_cross_fitted": 0.04},
            "speaker": {"accuracy": [baseline] * 5, "ece_cross_fitted": 0.03},
            "validation": [validation] * 5}


def test_runs_resume_and_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "runs.jsonl"
    ba.save_run(_run("base", 0, 0.5, 0.6, 0.55), path)
    ba.save_run(_run("base", 1, 0.52, 0.61, 0.56), path)
    ba.save_run(_run("base", 0, 0.51, 0.6, 0.55), path)  # a re-run replaces, never duplicates
    with path.open("a") as f:
        f.write('{"lever": "mixup", "se')  # killed mid-write by an older writer
    runs = ba.load_runs(path)
    assert sorted(runs) == [("base", 0), ("base", 1)]
    assert runs[("base", 0)]["global"]["accuracy"][0] == 0.51
    # the replaced run is kept aside, and the table says how far the re-run moved
    replaced = ba.load_runs(tmp_path / "runs_replaced.jsonl")
    assert list(replaced) == [("base", 0)] and replaced[("base", 0)]["global"]["accuracy"][0] == 0.5
    line = ba.rerun_line(runs, replaced)
    assert line.startswith("Re-runs (1: base seed 0;") and "moved by 1.0 points alone and 0.0 with baseline" in line


def test_a_lever_is_kept_on_validation_only_and_deltas_are_paired_by_seed():
    runs = {}
    for seed, (b, lv) in enumerate([(0.50, 0.53), (0.56, 0.58), (0.53, 0.54)]):
        runs[("base", seed)] = _run("base", seed, b, b + 0.1, b)
        # Test accuracy drops, validation rises on every seed: kept (tests never choose).
        runs[("mixup", seed)] = _run("mixup", seed, b - 0.05, b + 0.05, lv)
        # Test accuracy rises, validation falls on one seed: not kept.
        runs[("dropout", seed)] = _run("dropout", seed, b + 0.05, b + 0.15, lv if seed else b - 0.01)
    assert ba._delta(runs, "mixup", "global") == pytest.approx([-0.05] * 3)
    assert ba._verdict(ba._delta(runs, "mixup", "validation")) == "**yes**"
    assert ba._verdict(ba._delta(runs, "dropout", "validation")) == "no"
    assert ba._verdict([0.01, 0.02]) == "pending (fewer than 3 seeds)"
    table = ba.lever_table(runs)
    assert "| + mixup (Beta 0.2) | 3 | 48.0% ± 3.0 | -5.0 ± 0.0 |" in table


_ORPHAN_PARENT = r'''
import concurrent.futures, multiprocessing, os, sys, time
sys.path.insert(0, sys.argv[1])
from bench.bench_accuracy import _init_worker
if __name__ == "__main__":
    pool = concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(1,))
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 60)  # a "training" in progress
    time.sleep(1)
    os._exit(0)  # the benchmark is killed without shutting its pool down
'''


def test_a_killed_benchmark_takes_its_training_workers_with_it(tmp_path):
    """Killed, the benchmark left its workers training on unseen for two hours."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_PARENT)
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(script), str(repo)], capture_output=True, text=True, timeout=120)
    worker = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(worker, 9)
    raise AssertionError("the worker outlived the benchmark")


def test_the_shipped_recipe_row_is_the_thorough_preset_and_judges_the_bar_over_seeds(tmp_path):
    import json

    from training.presets import PRESETS

    # the shipped row is the Thorough preset before noisy copies were adopted, shipped_noise after;
    # both on classic frames with every clip as the baseline (the recipe until bench_honest chose
    # the encoder front end and skewed baselines: BENCHMARKS "Speaker baselines and front ends")
    classic = dict(workers=1, seed=2, front_end={"kind": "classic"}, skewed_baselines=0.0, speaker_scale="speaker",
                   distill=0.0)
    assert ba._config("shipped", 2)[0] == PRESETS["thorough"].config(**classic, noise_snrs=())
    assert ba._config("shipped_noise", 2)[0] == PRESETS["thorough"].config(**classic)
    assert ba._config("base", 2)[0].noise_snrs == () and ba._config("noise", 2)[0].noise_snrs == (20, 10)
    manifest = {"model_id": "m", "training": {"config": {"ensemble": 3, "epochs": 60, "patience": 12, "seed": 0}},
                "evaluation": {"modes": {m: {"title": t, "accuracy": {"mean": 0.70, "std": 0.05},
                                             "ece_cross_fitted": 0.04}
                                         for m, t in (("global", "each file alone"),
                                                      ("speaker", "with speaker baseline"))}}}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    runs = {("shipped", s): _run("shipped", s, 0.60 + s / 100, 0.76, 0.6) for s in (0, 1)}
    # Two seeds: the bundle's own report still judges (70% alone is above 65%).
    two = ba.shipped_against_bar(runs, path)
    assert "| accuracy, each file alone ≥ 65% | 70.0% ± 5.0% | 60.5% ± 0.7% | yes |" in two
    # Three seeds: the mean over seeds judges (61% alone misses 65%; 76% with baseline meets 75%).
    runs[("shipped", 2)] = _run("shipped", 2, 0.62, 0.76, 0.6)
    three = ba.shipped_against_bar(runs, path)
    assert "| accuracy, each file alone ≥ 65% | 70.0% ± 5.0% | 61.0% ± 1.0% | **no** |" in three
    assert "| accuracy, with speaker baseline ≥ 75% | 70.0% ± 5.0% | 76.0% ± 0.0% | yes |" in three
    # Validation backs the ensemble on every seed or the row says it does not.
    assert ba._recipe_verdict([0.01, 0.02, 0.03], ships=True) == "ships; validation confirms it"
    assert ba._recipe_verdict([0.01, -0.02, 0.03], ships=True) == "ships; **not** confirmed on validation"
    assert ba._recipe_verdict([0.01, 0.02, 0.03], ships=False) == "no longer ships; validation confirms it"
    # A bundle trained with noisy copies is judged on the recipe row with them.
    manifest["training"]["config"]["noise_snrs"] = [20, 10]
    path.write_text(json.dumps(manifest))
    assert ba._recipe_lever(path) == "shipped_noise"
    runs.update({("shipped_noise", s): _run("shipped_noise", s, 0.66, 0.74, 0.6) for s in (0, 1, 2)})
    noisy = ba.shipped_against_bar(runs, path)
    assert "noisy copies at 20 and 10 dB" in noisy
    assert "| accuracy, each file alone ≥ 65% | 70.0% ± 5.0% | 66.0% ± 0.0% | yes |" in noisy


def test_tta_is_paired_with_the_same_models_and_kept_on_validation_only():
    runs = {}
    for seed, gain in enumerate((0.02, 0.01, -0.01)):
        r = _run("shipped", seed, 0.60, 0.70, 0.65)
        r["global"]["tta_accuracy"] = [0.63] * 5   # test accuracy up on every run ...
        r["speaker"]["tta_accuracy"] = [0.69] * 5
        r["validation_tta"] = [0.65 + gain] * 5   # ... validation up on two runs of three
        runs[("shipped", seed)] = r
    runs[("base", 0)] = _run("base", 0, 0.5, 0.6, 0.55)  # no TTA scores: no row
    table = ba.tta_table(runs)
    assert table.count("\n") == 2  # header, rule, one row
    assert "| 3 | +3.0 ± 0.0 | -1.0 ± 0.0 | +0.7 ± 1.5 | no |" in table
    assert ba.tta_table({("base", 0): _run("base", 0, 0.5, 0.6, 0.55)}) == ""


def test_noisy_scores_show_the_rooms_cost_and_pair_levers_with_the_base_by_seed():
    runs = {}
    for seed in (0, 1, 2):
        for name, noisy in (("base", 0.30), ("noise", 0.40)):
            r = _run(name, seed, 0.55, 0.60, 0.5)
            r["global"]["noisy_accuracy"] = {"30": [noisy + seed / 100] * 5}
            r["speaker"]["noisy_accuracy"] = {"30": [noisy + 0.05] * 5}
            r["validation_noisy"] = {"30": [noisy] * 5}
            runs[(name, seed)] = r
    runs[("mixup", 0)] = _run("mixup", 0, 0.5, 0.6, 0.5)  # recorded before the column: no row
    table = ba.noisy_table(runs)
    assert table.count("\n") == 3
    base_row, noise_row = table.splitlines()[2:]
    assert "| 3 | 31.0% ± 1.0 | 35.0% ± 0.0 | -24.0 ± 1.0 / -25.0 ± 0.0 | — | — | — |" in base_row
    assert noise_row.endswith("| +10.0 ± 0.0 | +10.0 ± 0.0 | +10.0 ± 0.0 |")


def _with_room(run, room_validation, room_test=0.4):
    run["global"]["noisy_accuracy"] = {"30": [room_test] * 5}
    run["speaker"]["noisy_accuracy"] = {"30": [room_test + 0.05] * 5}
    run["validation_noisy"] = {"30": [room_validation] * 5}
    return run


def test_the_room_rule_adopts_a_robustness_lever_only_when_the_room_rises_on_every_seed_and_clean_holds():
    runs = {("base", s): _with_room(_run("base", s, 0.5, 0.6, 0.55), 0.45) for s in (0, 1, 2)}
    # clean validation -1, +2, +2 points (falls on one seed, +1 on average); room +5 on every seed
    for s, clean in enumerate((0.54, 0.57, 0.57)):
        runs[("noise", s)] = _with_room(_run("noise", s, 0.5, 0.6, clean), 0.50)
        runs[("mixup", s)] = _with_room(_run("mixup", s, 0.5, 0.6, clean), 0.50 if s else 0.44)
        runs[("dropout", s)] = _with_room(_run("dropout", s, 0.5, 0.6, clean - 0.02), 0.50)
    verdict = {name: ba._verdict(ba._delta(runs, name, "validation"), ba._room_delta(runs, name))
               for name in ("noise", "mixup", "dropout")}
    assert verdict == {"noise": "**yes** (room rule)",  # room up on every seed, clean up on average
                       "mixup": "no",                    # room down on one seed
                       "dropout": "no"}                  # clean down on average (-1 point)
    assert ba._room_delta(runs, "noise") == pytest.approx([0.05] * 3)
    assert ba._verdict([0.01, 0.02, 0.03], ba._room_delta(runs, "dropout")) == "**yes**"  # the clean rule first
    assert "| **yes** (room rule) |" in ba.lever_table(runs)


def test_the_recipe_with_noisy_copies_is_paired_with_the_recipe_by_seed_and_the_room_only_where_both_have_it():
    runs = {}
    for s in (0, 1, 2):
        runs[("shipped", s)] = _run("shipped", s, 0.60, 0.68, 0.65)
        runs[("shipped_noise", s)] = _with_room(_run("shipped_noise", s, 0.61 + s / 100, 0.68, 0.66), 0.60, 0.55)
    _with_room(runs[("shipped", 2)], 0.52, 0.48)  # only seed 2 of the old recipe scored the room
    table = ba.recipe_table(runs)
    assert table.splitlines()[2] == ("| room scored on seed(s) 2 | 3 | +2.0 ± 1.0 | +0.0 ± 0.0 | +1.0 ± 0.0 "
                                     "| +7.0 (1 seed) | +7.0 (1 seed) | +8.0 (1 seed) | **yes** |")
    assert ba.recipe_table({("shipped", 0): runs[("shipped", 0)]}) == ""


def _early_runs():
    """Base on 3 seeds; after seed 0, 'dropout' fell clean and in the room, 'mixup' fell clean
    but rose in the room, 'wider' rose clean."""
    runs = {("base", s): _with_room(_run("base", s, 0.5, 0.6, 0.55), 0.45) for s in (0, 1, 2)}
    runs[("dropout", 0)] = _with_room(_run("dropout", 0, 0.5, 0.6, 0.54), 0.44)
    runs[("mixup", 0)] = _with_room(_run("mixup", 0, 0.5, 0.6, 0.54), 0.50)
    runs[("wider", 0)] = _with_room(_run("wider", 0, 0.5, 0.6, 0.56), 0.44)
    return runs


def test_a_lever_that_failed_both_rules_on_one_seed_is_decided_and_not_listed_as_pending():
    runs = _early_runs()
    verdict = {n: ba._verdict(ba._delta(runs, n, "validation"), ba._room_delta(runs, n))
               for n in ("dropout", "mixup", "wider")}
    # dropout can pass neither rule any more; mixup could still pass the room rule, wider the clean one
    assert verdict == {"dropout": "no (decided on 1 seed)", "mixup": "pending (fewer than 3 seeds)",
                       "wider": "pending (fewer than 3 seeds)"}
    assert ba.levers_decided_early(runs) == ["dropout"]
    decided, pending = ba.not_run_line(runs).split("\n\n")[:2]
    assert decided.startswith("Decided before 3 seeds") and "dropout 0.3 → 0.5 (seed 0)" in decided
    runs[("dropout", 1)] = _with_room(_run("dropout", 1, 0.5, 0.6, 0.50), 0.40)
    assert "dropout 0.3 → 0.5 (seeds 0, 1)" in ba.not_run_line(runs)
    assert "dropout" not in pending and "mixup (Beta 0.2)" in pending and "wider" in pending
    # a seed of the lever still pending does not settle it: only a fall in both does
    assert not ba._decided_early([-0.01], [])  # no room scores: the room rule is still open


def test_the_benchmark_runs_seed_major_and_skips_the_seeds_of_a_lever_already_decided(monkeypatch, tmp_path):
    import concurrent.futures

    base = {k: v for k, v in _early_runs().items() if k[0] == "base"}
    ran = []

    def fake_run_one(name, seed, data):
        ran.append((name, seed))
        return _early_runs().get((name, seed)) or _with_room(_run(name, seed, 0.5, 0.6, 0.56), 0.50)

    real_load, real_save = ba.load_runs, ba.save_run

    def results_file(name):
        """A results file holding the base's runs, which the benchmark then reads and writes."""
        path = tmp_path / name
        for rec in base.values():
            real_save(rec, path)
        monkeypatch.setattr(ba, "load_runs", lambda path=path: real_load(path))
        monkeypatch.setattr(ba, "save_run", lambda rec: real_save(rec, path))
        return path

    # threads instead of processes: the scheduling is under test, not training
    monkeypatch.setattr(ba.concurrent.futures, "ProcessPoolExecutor",
                        lambda jobs, **_: concurrent.futures.ThreadPoolExecutor(jobs))
    monkeypatch.setattr(ba, "run_one", fake_run_one)
    monkeypatch.setattr(ba, "write_tables", lambda runs: "")
    results = results_file("runs.jsonl")
    ba.main(["--levers", "dropout", "mixup", "--seeds", "0", "1", "2", "--jobs", "1"])
    assert ran == [("dropout", 0), ("mixup", 0), ("mixup", 1), ("mixup", 2)]
    assert sorted(k for k in real_load(results) if k[0] != "base") == [
        ("dropout", 0), ("mixup", 0), ("mixup", 1), ("mixup", 2)]
    # Two at a time: a lever's seed 1 waits for its seed 0, which settles it (label smoothing's seed 2
    # once started while its seed 1, which settled it, was still training).
    ran.clear()
    results_file("fresh.jsonl")
    ba.main(["--levers", "dropout", "--seeds", "0", "1", "2", "--jobs", "2"])
    assert ran == [("dropout", 0)]


def test_the_table_says_how_far_the_base_itself_moves_from_seed_to_seed():
    runs = {("base", s): _run("base", s, 0.5, 0.6 + s / 100, v) for s, v in enumerate((0.598, 0.647, 0.553))}
    line = ba.base_spread_line(runs)
    assert line.startswith("What a seed does to the base: its validation accuracy is 55.3% with seed 2 and "
                           "64.7% with seed 1 (test, with baseline: 60.0%, 61.0%, 62.0%)")
    assert ba.base_spread_line({("base", 0): runs[("base", 0)]}) == ""


@pytest.mark.slow
def test_a_lever_and_the_seed_protocol_run_on_todays_training_code(tmp_path):
    """Both kinds of run called training functions that had since changed (a ``tta`` argument,
    ``training.train.file_logits``) and failed before training: run them on 3 actors, tiny."""
    from tests.conftest import SPEECH_16K, TINY, make_mini_dataset

    if not SPEECH_16K.is_dir():
        pytest.skip("RAVDESS data not found")
    from training.config import TrainConfig
    from training.dataset import discover

    ds = discover(make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=2))
    cfg = TrainConfig(folds=3, val_actors=1, **{**TINY, "speeds": ()})
    _, feats = ba._features(cfg, tmp_path / "data")
    rec = ba._speaker_independent(ds, feats, cfg)
    for mode in ("global", "speaker"):
        assert len(rec[mode]["accuracy"]) == 3 and all(0.0 <= a <= 1.0 for a in rec[mode]["accuracy"])
        assert set(rec[mode]["noisy_accuracy"]) == {f"{snr:g}" for snr in ba.EVAL_NOISE_SNRS}
    assert len(rec["validation"]) == len(rec["best_epochs"]) == 3
    seed = ba._random_split(ds, feats, cfg, seed=0)
    assert seed["protocol"].startswith("random 75/25")
    assert all(0.0 <= seed[m]["accuracy"][0] <= 1.0 for m in ("global", "speaker"))
