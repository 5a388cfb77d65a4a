"""A benchmark section's stamp (bench/record.py)."""

import datetime

from bench import record


def test_a_section_written_again_from_saved_results_keeps_the_commit_and_day_they_were_measured(monkeypatch):
    monkeypatch.setattr(record, "commit", lambda: "now0000000")
    again = record.stamp("then000000", "2026-11-30").format(script="bench/x.py")
    assert "2026-11-30" in again and "commit then000000;" in again and "now0000000" not in again
    fresh = record.stamp().format(script="bench/x.py")
    assert f"_Measured {datetime.date.today().isoformat()} " in fresh and "commit now0000000;" in fresh
    assert fresh.endswith("script `bench/x.py`._")


def test_what_the_benches_write_is_not_a_change_to_the_code_measured(monkeypatch):
    import subprocess

    def fake_run(args, **kw):
        out = "abc1234567" if "rev-parse" in args else porcelain
        return subprocess.CompletedProcess(args, 0, stdout=out + "\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    porcelain = " M BENCHMARKS.md\n M bench/results/honest_runs.jsonl"
    assert record.commit() == "abc1234567"
    porcelain = " M BENCHMARKS.md\n M training/train.py"
    assert record.commit() == "abc1234567+changes"
