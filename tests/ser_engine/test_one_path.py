"""Every way into the labelling gives the same answer for the same recording: the window's
worker, `ser predict` with or without `--segments`, `ser batch`, the Predictor on a file or an
array, and training's evaluation (which fits the temperatures and the "uncertain" threshold
the app then applies). One labelling core (ser_engine.labelling) is what makes it so."""

import json
import shutil
import types

import numpy as np
import pytest

from ser_engine.audio import load_audio
from ser_engine.cli import main
from ser_engine.predictor import Predictor
from tests.conftest import ravdess_files, requires_data

pytestmark = requires_data
TOL = 1e-4  # LiteRT (the app) against Keras (training) and streamed against one-pass features


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("one-path") / "speaker"
    d.mkdir()
    for p in ravdess_files([5], emotions=[1, 4, 5, 6], per_emotion=2):  # 8 clips, ~15 s of speech
        shutil.copy(p, d / p.name)
    return d


@pytest.fixture(scope="module")
def predictor(tiny_bundle):
    return Predictor.from_path(tiny_bundle)[0]


def _cli_json(capsys, *argv):
    assert main(list(argv)) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    return {r["path"]: r for r in rows}


def _training_answers(bundle_dir, paths, baseline):
    """The answers training's evaluation computes for these recordings (Keras, cached-feature path)."""
    from ser_engine.bundle import load_bundle
    from ser_engine.features import compute_features
    from training.config import TrainConfig
    from training.scoring import baseline_stats, file_scores, recordings_of

    bundle = load_bundle(bundle_dir)
    cfg = TrainConfig(**bundle.manifest["training"]["config"])
    features = {p: compute_features(load_audio(p), config=cfg.feature) for p in paths}
    recs = recordings_of(features, cfg)
    stats = bundle.global_stats
    if baseline:
        stats = baseline_stats(list(recs.values()), stats, cfg)
    items = [types.SimpleNamespace(path=p) for p in paths]
    scores = file_scores(bundle.load_keras_model(), items, recs, lambda it: stats, cfg=cfg)
    return scores.profiles(bundle.temperature("speaker" if baseline else "global"))


def _same(answers, reference):
    for path, probs in answers.items():
        ref = reference[path]
        assert max(probs, key=probs.get) == max(ref, key=ref.get), path
        np.testing.assert_allclose([probs[k] for k in ref], list(ref.values()), atol=TOL, err_msg=path)


@pytest.mark.parametrize("speaker_baseline", [False, True], ids=["alone", "folder baseline"])
def test_every_entry_point_gives_the_same_answer(tiny_bundle, predictor, folder, tmp_path, capsys, speaker_baseline):
    paths = sorted(folder.glob("*.flac"))
    extra = ["--speaker-baseline"] if speaker_baseline else []
    if speaker_baseline:
        timelines = predictor.analyse_group(paths)
    else:
        timelines = [predictor.predict_file(p) for p in paths]
    reference = {str(t.path): t.probabilities for t in timelines}
    mode = {t.normalisation.mode for t in timelines}
    assert mode == ({"speaker"} if speaker_baseline else {"global"})

    cli = _cli_json(capsys, "predict", str(folder), "--json", *extra, "--model", str(tiny_bundle))
    cli_segments = _cli_json(capsys, "predict", str(folder), "--json", "--segments", *extra,
                             "--model", str(tiny_bundle))
    _same({p: r["probabilities"] for p, r in cli.items()}, reference)
    _same({p: r["probabilities"] for p, r in cli_segments.items()}, reference)
    assert {r["normalisation"]["mode"] for r in cli.values()} == mode

    training = _training_answers(tiny_bundle, paths, speaker_baseline)
    _same({str(p): dict(zip(predictor.labels, row, strict=True))
           for p, row in zip(paths, training, strict=True)}, reference)

    if not speaker_baseline:
        arrays = {str(p): predictor.predict_array(load_audio(p), path=str(p)).probabilities for p in paths}
        _same(arrays, reference)
        out = tmp_path / "batch.json"
        assert main(["batch", str(folder), "--out", str(out), "--model", str(tiny_bundle), "--no-progress"]) == 0
        capsys.readouterr()
        batch = {json.loads(x)["path"]: json.loads(x)["probabilities"] for x in out.read_text().splitlines()}
        _same(batch, reference)


def test_the_answer_is_the_headline_the_bars_and_the_summary(predictor, folder):
    """One answer per recording: the label is the largest share, its confidence that share, and
    the segments' time-weighted probabilities give the same shares."""
    for p in sorted(folder.glob("*.flac"))[:3]:
        tl = predictor.predict_file(p)
        assert tl.label == max(tl.probabilities, key=tl.probabilities.get)
        assert tl.confidence == pytest.approx(tl.probabilities[tl.label])
        speech = [s for s in tl.segments if s.is_speech]
        mean = [sum(s.probabilities[k] * s.duration for s in speech) / sum(s.duration for s in speech)
                for k in tl.labels]
        # within a frame's weight: the answer weighs in frames, a segment ending at the file's end
        # is cut at its last sample (test_labelling checks the identity exactly)
        np.testing.assert_allclose(mean, [tl.probabilities[k] for k in tl.labels], atol=5e-3)
