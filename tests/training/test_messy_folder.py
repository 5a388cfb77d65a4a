"""A user's RAVDESS folder is rarely clean: missing actors, duplicates, wrong names, mixed
sample rates, damaged files. Training goes on with the good files and lists every skip."""

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ORIGINAL_48K, SPEECH_16K, TINY, make_mini_dataset, requires_data
from training.config import TrainConfig
from training.dataset import inspect_folder
from training.pipeline import run_training

pytestmark = requires_data


@pytest.fixture
def messy(tmp_path):
    """Actors 01-03 (04-24 missing), one emotion file each, plus every kind of bad file."""
    root = make_mini_dataset(tmp_path / "messy", actors=(1, 2, 3), per_emotion=1)
    bad = {}
    # the same recording twice (another folder of the same actor)
    dup = sorted((root / "Actor_01").glob("*.flac"))[0]
    (root / "copies").mkdir()
    shutil.copy(dup, root / "copies" / dup.name)
    bad[f"copies/{dup.name}"] = "duplicate of"
    # a name that is not RAVDESS, and a song file
    shutil.copy(dup, root / "Actor_01" / "my recording.flac")
    bad["Actor_01/my recording.flac"] = "not a RAVDESS name"
    shutil.copy(dup, root / "Actor_01" / "03-02-03-01-01-01-01.flac")
    bad["Actor_01/03-02-03-01-01-01-01.flac"] = "song, not speech"
    # a name that says actor 02 inside Actor_01
    shutil.copy(dup, root / "Actor_01" / "03-01-03-01-02-02-02.flac")
    bad["Actor_01/03-01-03-01-02-02-02.flac"] = "the folder is Actor_01"
    # a truncated FLAC (its header is fine: found at extraction) and a text file with a RAVDESS name
    data = (SPEECH_16K / "Actor_02" / "03-01-05-02-02-02-02.flac").read_bytes()
    (root / "Actor_02" / "03-01-05-02-02-02-02.flac").write_bytes(data[: len(data) // 3])
    bad["Actor_02/03-01-05-02-02-02-02.flac"] = "could not be decoded"
    (root / "Actor_03" / "03-01-04-02-02-02-03.wav").write_text("this is not audio")
    bad["Actor_03/03-01-04-02-02-02-03.wav"] = "unreadable"
    (root / "Actor_03" / "readme.txt").write_text("notes")
    bad["Actor_03/readme.txt"] = "not an audio file"
    # 48 kHz originals of actor 02 beside its 16 kHz files (mixed sample rates: used, resampled)
    for f in sorted((ORIGINAL_48K / "Actor_02").glob("*.wav"))[:2]:
        shutil.copy(f, root / "Actor_02" / f.name)
    return root, bad


def test_the_summary_names_every_skip_before_a_run(messy):
    root, bad = messy
    dataset, summary = inspect_folder(root)
    reasons = {str(Path(s["path"]).relative_to(root)): s["reason"]
               for s in summary["skipped_files"]}
    # the truncated FLAC has a valid header: only extraction finds it
    expected = {k: v for k, v in bad.items() if k != "Actor_02/03-01-05-02-02-02-02.flac"}
    assert set(reasons) == set(expected)
    for name, why in expected.items():
        assert why in reasons[name], (name, reasons[name])
    assert summary["actors"] == [1, 2, 3]
    assert summary["sample_rates"] == {16000: summary["files"] - 2, 48000: 2}
    assert summary["seconds"] > 3 * summary["files"]


def test_training_goes_on_with_the_good_files_and_reports_every_skip(messy, tmp_path):
    root, bad = messy
    outcome = run_training(root, tmp_path / "out", TrainConfig.quick(**TINY), cache_root=tmp_path / "cache",
                           litert=False)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    reasons = {str(Path(s["path"]).relative_to(root)): s["reason"] for s in report["skipped"]}
    assert set(reasons) == set(bad)
    for name, why in bad.items():
        assert why in reasons[name] or "unreadable" in reasons[name], (name, reasons[name])
    assert "unreadable" in reasons["Actor_02/03-01-05-02-02-02-02.flac"]
    # 3 actors x 8 emotions and the two 48 kHz originals; the damaged files are extra names
    assert report["dataset"]["files"] == 24 + 2
    assert outcome.bundle_dir.is_dir()
