import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from ser_engine import EMOTIONS
from ser_engine.cli import main
from tests.conftest import ORIGINAL_48K, ravdess_files, requires_data

pytestmark = requires_data


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "speaker one"
    d.mkdir()
    for p in ravdess_files([5], emotions=[1, 5, 6], per_emotion=1):
        shutil.copy(p, d / p.name)
    return d


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_model_accepts_the_folder_ser_train_wrote(tiny_bundle, folder, capsys):
    """``ser-train --out DIR`` puts the bundle in DIR/model; ``--model DIR`` means that bundle."""
    run_dir = tiny_bundle.parent
    assert not (run_dir / "manifest.json").exists()
    code, out, err = run(capsys, "predict", str(folder), "--json", "--model", str(run_dir))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3 and {r["model"]["id"] for r in rows} == {"tiny-test-model"}


def test_model_refuses_a_folder_holding_no_bundle(folder, tmp_path, capsys):
    empty = tmp_path / "not a model"
    empty.mkdir()
    code, out, err = run(capsys, "predict", str(folder), "--model", str(empty))
    assert code != 0 and out == ""
    assert str(empty) in err and "not a model bundle" in err and "Traceback" not in err


def test_json_lines_schema(tiny_bundle, folder, capsys):
    code, out, _ = run(capsys, "predict", str(folder), "--json", "--model", str(tiny_bundle))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert set(row) >= {"path", "label", "confidence", "probabilities", "segments", "model", "summary", "sha256"}
        assert row["normalisation"] == {"mode": "global", "source": "training data", "speech_seconds": None}
        assert isinstance(row["uncertain"], bool) and row["duration"] > 2
        assert row["label"] in EMOTIONS and list(row["probabilities"]) == list(EMOTIONS)
        # each of the 8 probabilities is rounded to 4 decimals, so their sum is 1 within 8 * 0.00005
        assert abs(sum(row["probabilities"].values()) - 1) <= 4e-4 + 1e-12
        assert row["confidence"] == pytest.approx(row["probabilities"][row["label"]])
        assert row["model"] == {"id": "tiny-test-model", "version": "0.1.0"}
        seg = next(s for s in row["segments"] if s["label"] != "no speech")
        assert set(seg) == {"start", "end", "label", "confidence", "uncertain", "probabilities", "snr_db"}
        assert 0 <= seg["start"] < seg["end"]


def test_plain_output_and_segments(tiny_bundle, folder, capsys):
    code, out, _ = run(capsys, "predict", str(folder), "--segments", "--model", str(tiny_bundle))
    assert code == 0
    lines = out.splitlines()
    heads = [ln for ln in lines if not ln.startswith(" ")]
    assert len(heads) == 3
    for head in heads:
        path, label, conf, flag, normalisation, mix = head.split("\t")
        assert path.endswith(".flac") and label in EMOTIONS and 0 < float(conf) <= 1
        assert flag in ("-", "uncertain") and normalisation == "global statistics (training data)"
        assert mix == "emotion mix of the training data (nearly even)"  # a clip is too short for its own
    assert any(ln.startswith("    ") and " s\t" in ln for ln in lines)


def test_a_bad_file_is_reported_and_the_others_labelled(tiny_bundle, folder, tmp_path, capsys):
    (folder / "broken.wav").write_text("this is text")
    silent = folder / "silent.wav"
    sf.write(silent, np.zeros(100, np.float32), 16000)
    code, out, _ = run(capsys, "predict", str(folder), "--json", "--model", str(tiny_bundle))
    assert code == 2
    rows = {json.loads(line)["path"].rsplit("/", 1)[-1]: json.loads(line) for line in out.splitlines()}
    assert len(rows) == 5
    assert set(rows["broken.wav"]) == {"path", "error"}
    assert "not a readable audio file" in rows["broken.wav"]["error"]
    assert "too short" in rows["silent.wav"]["error"]
    assert sum("label" in r for r in rows.values()) == 3


def test_speaker_baseline_changes_the_normalisation(tiny_bundle, folder, capsys):
    _, alone, _ = run(capsys, "predict", str(folder), "--json", "--model", str(tiny_bundle))
    code, grouped, _ = run(capsys, "predict", str(folder), "--json", "--speaker-baseline", "--model", str(tiny_bundle))
    assert code == 0
    a = [json.loads(x)["probabilities"] for x in alone.splitlines()]
    g = [json.loads(x) for x in grouped.splitlines()]
    assert len(a) == len(g) == 3
    # three clips hold less than 10 s of speech: the folder's baseline is refused, and says so
    assert all(r["normalisation"]["mode"] == "global" and "refused" in r["normalisation"]["note"] for r in g)
    assert [r["probabilities"] for r in g] == a


def test_originals_at_48k(tiny_bundle, capsys):
    code, out, _ = run(capsys, "predict", str(ORIGINAL_48K), "--json", "--model", str(tiny_bundle))
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 18 and all("label" in r for r in rows)


def test_fatal_and_empty_cases(tmp_path, capsys):
    code, _, err = run(capsys, "predict", str(tmp_path), "--model", str(tmp_path / "nope"))
    assert code == 2 and "no audio files found" in err
    (tmp_path / "a.wav").write_text("x")
    code, _, err = run(capsys, "predict", str(tmp_path), "--model", str(tmp_path / "nope"))
    assert code == 1 and "nope" in err and "Traceback" not in err


def test_info_prints_the_card_summary(tiny_bundle, capsys):
    code, out, _ = run(capsys, "info", "--model", str(tiny_bundle))
    assert code == 0
    assert "Model: tiny-test-model (version 0.1.0)" in out
    assert "Labels: neutral, calm, happy, sad, angry, fearful, disgust, surprised" in out


def test_segments_json_gives_the_timeline_of_a_long_recording(tmp_path, capsys):
    from tests.ser_engine.long_fixtures import build_long_recording
    from ser_engine.bundle import load_bundle
    from ser_engine.paths import shipped_model_dir
    from ser_engine.predictor import Predictor

    rec = build_long_recording(tmp_path / "session.wav", predictor=Predictor(load_bundle(shipped_model_dir())))
    code, out, _ = run(capsys, "predict", str(rec.path), "--segments", "--json")
    assert code == 0
    row = json.loads(out)
    assert row["path"].endswith("session.wav") and row["label"] in EMOTIONS and row["sha256"]
    assert row["duration"] == pytest.approx(rec.duration, abs=0.01)
    labels = [s["label"] for s in row["segments"]]
    assert labels[0] == labels[-1] == "no speech" and len([x for x in labels if x == "no speech"]) == 5
    seg = next(s for s in row["segments"] if s["label"] != "no speech")
    assert set(seg) == {"start", "end", "label", "confidence", "uncertain", "probabilities", "snr_db"}
    assert abs(sum(seg["probabilities"].values()) - 1) < 1e-3
    assert set(row["summary"]["shares"]) == set(EMOTIONS)


def test_segments_of_a_silent_file_and_a_bad_one(tiny_bundle, tmp_path, capsys):
    sf.write(tmp_path / "quiet.wav", np.zeros(16000 * 3, np.float32), 16000)
    (tmp_path / "broken.wav").write_text("this is text")
    code, out, _ = run(capsys, "predict", str(tmp_path / "quiet.wav"), str(tmp_path / "broken.wav"),
                       "--segments", "--model", str(tiny_bundle))
    assert code == 2
    quiet, seg, broken = out.splitlines()
    assert quiet.split("\t")[1:4] == ["no speech", "-", "-"] and seg.split("\t")[1:] == ["no speech", "-"]
    assert broken.split("\t")[:2] == [str(tmp_path / "broken.wav"), "ERROR"] and "not a readable" in broken


def test_a_folder_with_enough_speech_is_one_speaker_and_says_so(tiny_bundle, tmp_path, capsys):
    d = tmp_path / "actor five"
    d.mkdir()
    for p in ravdess_files([5], per_emotion=1):  # 8 clips, about 15 s of speech
        shutil.copy(p, d / p.name)
    code, out, _ = run(capsys, "predict", str(d), "--json", "--speaker-baseline", "--model", str(tiny_bundle))
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(rows) == 8
    for r in rows:
        n = r["normalisation"]
        assert n["mode"] == "speaker" and n["source"] == "folder actor five (8 files)" and n["speech_seconds"] >= 10


def test_a_reference_normalises_every_file_and_too_little_speech_is_refused(tiny_bundle, folder, tmp_path, capsys):
    import soundfile as sf

    from ser_engine.audio import load_audio

    ref = tmp_path / "reference.wav"
    sf.write(ref, np.concatenate([load_audio(p) for p in ravdess_files([5], emotions=[1, 2], per_emotion=4)]), 16000)
    code, out, _ = run(capsys, "predict", str(folder), "--json", "--reference", str(ref), "--model", str(tiny_bundle))
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and {r["normalisation"]["source"] for r in rows} == {"reference reference.wav"}
    code, out, err = run(capsys, "predict", str(folder), "--reference", str(ref), "--reference-span", "0-3",
                         "--model", str(tiny_bundle))
    assert code == 1 and out == "" and "reference.wav (0.0–3.0 s): only" in err and "at least 10 s" in err


def test_segments_change_only_what_is_printed(tiny_bundle, folder, capsys):
    for extra in ([], ["--speaker-baseline"]):
        _, plain, _ = run(capsys, "predict", str(folder), "--json", *extra, "--model", str(tiny_bundle))
        _, segs, _ = run(capsys, "predict", str(folder), "--json", "--segments", *extra, "--model", str(tiny_bundle))
        assert plain == segs


def test_a_session_in_a_loud_room_warns_that_quiet_speech_may_be_missed(tiny_bundle, folder, tmp_path, capsys):
    from ser_engine.audio import load_audio

    clips = [load_audio(p) for p in sorted(folder.iterdir())]
    pause = np.zeros(16000, np.float32)
    y = np.concatenate([part for _ in range(5) for c in clips for part in (c, pause)])  # ~45 s: a session
    assert len(y) > 35 * 16000
    loud = np.abs(y) > 0.02 * np.abs(y).max()
    noise = np.random.default_rng(0).standard_normal(len(y)) * np.sqrt(np.mean(y[loud] ** 2)) * 10 ** (-12 / 20)
    sf.write(tmp_path / "quiet room.wav", y, 16000)
    sf.write(tmp_path / "loud room.wav", (y + noise).astype(np.float32), 16000)
    code, out, err = run(capsys, "predict", str(tmp_path / "quiet room.wav"), str(tmp_path / "loud room.wav"),
                         "--model", str(tiny_bundle))
    assert code == 0
    quiet, loud_room = out.splitlines()
    (warning,) = [line for line in err.splitlines() if "quiet speech may be missed" in line]
    assert warning.startswith(f"warning: {tmp_path / 'loud room.wav'}: noisy room (speech ")
    assert loud_room.split("\t")[3] == "uncertain"  # the session's answer, on every path


def test_a_session_labelled_with_global_statistics_says_why_in_its_line_not_as_a_warning(tiny_bundle, folder, tmp_path,
                                                                                         capsys):
    from ser_engine.audio import load_audio

    clip = load_audio(sorted(folder.iterdir())[0])
    pause = np.zeros(15 * 16000, np.float32)
    sf.write(tmp_path / "sparse.wav", np.concatenate([pause, clip, pause, clip, pause]), 16000)  # ~50 s, little speech
    code, out, err = run(capsys, "predict", str(tmp_path / "sparse.wav"), "--model", str(tiny_bundle))
    assert code == 0 and "warning" not in err  # nothing the user asked for was refused
    normalisation = out.split("\t")[4]
    assert normalisation.startswith("global statistics (training data); this recording: ")
    assert normalisation.endswith(" s of speech, under the 30 s a baseline of its own needs")
