"""The channel-shift bench: its channels and its ensemble scoring."""

import numpy as np
import pytest

from bench.bench_channels import CHANNELS, SR, channel, ensemble, shown_table


def _run(answers, truth):
    return {"labels": ["neutral", "sad"], "truth": truth, "answers": {"clean:global": answers}}


def test_an_ensemble_scores_the_mean_of_its_members_answers_clip_by_clip():
    truth = ["neutral", "sad", "sad"]
    a = _run([[0.9, 0.1], [0.6, 0.4], [0.45, 0.55]], truth)  # 2 of 3 right
    b = _run([[0.4, 0.6], [0.1, 0.9], [0.6, 0.4]], truth)    # 1 of 3 right
    out = ensemble({"a-0": a, "b-1": b}, ["a-0", "b-1"])
    # means: [0.65, 0.35] right, [0.35, 0.65] right, [0.525, 0.475] wrong
    assert out["clean:global"] == pytest.approx(2 / 3)
    assert out["n_clips"] == 3 and out["members"] == ["a-0", "b-1"]


def test_an_ensemble_of_runs_scored_on_other_clips_is_refused():
    with pytest.raises(SystemExit, match="same clips"):
        ensemble({"a-0": _run([[1, 0]], ["neutral"]), "b-0": _run([[1, 0]], ["sad"])}, ["a-0", "b-0"])


def test_what_a_user_reads_is_the_accuracy_of_the_unmarked_answers_and_the_share_marked():
    truth = ["neutral", "sad", "sad", "neutral"]
    answers = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]]  # right, wrong, right, wrong
    marks = [False, True, False, True]
    rec = {"labels": ["neutral", "sad"], "truth": truth,
           "answers": {f"{ch}:{m}": answers for ch in CHANNELS for m in ("global", "speaker")},
           "uncertain": {f"{ch}:{m}": marks for ch in CHANNELS for m in ("global", "speaker")}}
    rows = shown_table({"a-0": rec, "old-0": _run(answers, truth)}).splitlines()
    assert len(rows) == 4  # a header, its rule and a's two normalisations; a run without marks has none
    assert rows[2].startswith("| `a-0` | alone | 100.0% (50% marked) |")
    assert shown_table({"old-0": _run(answers, truth)}) == ""


def test_the_telephone_channel_keeps_the_length_and_removes_the_high_band():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(SR).astype(np.float32) * 0.1
    out = channel(y, "telephone")
    assert out.shape == y.shape
    spec = np.abs(np.fft.rfft(out)) ** 2
    freqs = np.fft.rfftfreq(len(out), 1 / SR)
    assert spec[freqs > 4500].sum() < 1e-3 * spec[(freqs > 500) & (freqs < 3000)].sum()
    assert np.allclose(channel(y, "minus20db"), y * 0.1, atol=1e-6)
