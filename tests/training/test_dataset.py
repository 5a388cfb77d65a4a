import shutil

import pytest

from ser_engine.errors import DatasetError
from tests.conftest import SPEECH_16K, make_mini_dataset, ravdess_files, requires_data
from training.dataset import discover, parse_name

pytestmark = requires_data


def test_parse_name_accepts_speech_and_explains_the_rest():
    item, reason = parse_name("x/03-01-05-02-01-02-12.wav")
    assert reason is None
    assert (item.actor, item.emotion, item.intensity, item.statement, item.repetition) == (12, "angry", "strong", 1, 2)
    assert item.sex == "female"
    assert parse_name("03-02-05-02-01-02-12.wav") == (None, "song, not speech")
    assert parse_name("01-01-05-02-01-02-12.wav")[1].startswith("modality 01")
    assert parse_name("03-01-01-02-01-02-12.wav")[1] == "neutral has no strong intensity in RAVDESS"
    assert "not a RAVDESS name" in parse_name("interview.wav")[1]


@pytest.mark.parametrize("layout", ["download", "actors", "flat"])
def test_finds_ravdess_however_nested(tmp_path, layout):
    files = ravdess_files([1, 2], per_emotion=1)
    for p in files:
        if layout == "download":
            target = tmp_path / "Audio_Speech_Actors_01-24" / p.parent.name / p.name
        elif layout == "actors":
            target = tmp_path / p.parent.name / p.name
        else:
            target = tmp_path / p.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)
    ds = discover(tmp_path)
    assert len(ds.items) == len(files) == 16
    assert ds.actors == [1, 2]
    assert set(ds.count_by_emotion().values()) == {2}
    assert ds.skipped == []


def test_every_skip_has_a_reason(tmp_path):
    make_mini_dataset(tmp_path, actors=(1, 2), per_emotion=1)
    song = tmp_path / "Actor_01" / "03-02-05-01-01-01-01.flac"
    shutil.copy(next((tmp_path / "Actor_01").glob("*.flac")), song)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "Actor_01" / "recording.wav").write_bytes(b"")
    wrong_actor = tmp_path / "Actor_02" / "03-01-05-01-01-01-01.flac"
    shutil.copy(song, wrong_actor)
    dup = tmp_path / "copy" / "03-01-02-01-01-01-02.flac"
    dup.parent.mkdir()
    shutil.copy(SPEECH_16K / "Actor_02" / dup.name, dup)
    ds = discover(tmp_path)
    reasons = {p.name: r for p, r in ds.skipped}
    assert reasons["03-02-05-01-01-01-01.flac"] == "song, not speech"
    assert reasons["notes.txt"] == "not an audio file"
    assert "not a RAVDESS name" in reasons["recording.wav"]
    assert "folder is Actor_02" in reasons["03-01-05-01-01-01-01.flac"]
    assert reasons["03-01-02-01-01-01-02.flac"].startswith("duplicate of")
    assert len(ds.items) == 16


def test_too_few_actors_is_a_clear_error(tmp_path):
    make_mini_dataset(tmp_path, actors=(3,), per_emotion=1)
    with pytest.raises(DatasetError, match="1 actor"):
        discover(tmp_path)


def test_missing_class_is_a_clear_error(tmp_path):
    make_mini_dataset(tmp_path, actors=(1, 2), per_emotion=1)
    for p in tmp_path.rglob("03-01-08-*"):
        p.unlink()
    with pytest.raises(DatasetError, match="no file for surprised"):
        discover(tmp_path)


def test_a_folder_that_is_not_ravdess(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(DatasetError, match="no RAVDESS speech files found"):
        discover(tmp_path)
    with pytest.raises(DatasetError, match="not a folder"):
        discover(tmp_path / "missing")
