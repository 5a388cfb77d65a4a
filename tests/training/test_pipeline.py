import json

import pytest

from ser_engine.bundle import load_bundle
from ser_engine.errors import DatasetError, TrainingCancelled
from ser_engine.predictor import Predictor
from tests.conftest import TINY, make_mini_dataset, ravdess_files, requires_data
from training.config import TrainConfig
from training.pipeline import fewest_training_actors, run_training

pytestmark = requires_data


def test_quick_run_gives_a_loadable_calibrated_bundle(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    assert bundle.model_id == "tiny-test-model"
    assert bundle.manifest["training_data"]["actors"] == [1, 2, 3]
    for mode in ("global", "speaker"):
        assert bundle.temperature(mode) > 0
    report = json.loads((tiny_bundle.parent / "report.json").read_text())
    assert report["evaluation"]["protocol"] == "quick run"
    assert (tiny_bundle.parent / "curves.png").stat().st_size > 1000
    res = Predictor(bundle).predict_file(ravdess_files([4], emotions=[5], per_emotion=1)[0])
    assert res.ok and abs(sum(res.probabilities.values()) - 1) < 1e-5


def test_kfold_run_reports_both_modes(tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=1)
    events = []
    outcome = run_training(data, tmp_path / "out", TrainConfig(folds=3, val_actors=1, **TINY),
                           cache_root=tmp_path / "cache", progress=events.append, litert=False)
    modes = outcome.report["evaluation"]["modes"]
    assert set(modes) == {"global", "speaker"}
    for res in modes.values():
        assert 0 <= res["accuracy"]["mean"] <= 1 and res["accuracy"]["std"] >= 0
        assert len(res["confusion"]) == 8 and sum(map(sum, res["confusion"])) == 24  # every file once, out of fold
        assert set(res["per_class_recall"]) == {"neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                                                "surprised"}
    assert [f["test_actors"] for f in outcome.report["evaluation"]["folds"]] == [[1], [2], [3]]
    assert {e["phase"] for e in events} >= {"scan", "features", "fold", "final", "write", "done"}
    for name in ("confusion.png", "curves.png", "reliability.png", "report.json", "model/model.keras"):
        assert (tmp_path / "out" / name).exists(), name
    card = (tmp_path / "out" / "model" / "card.md").read_text()
    assert "3-fold speaker-independent" in card and "CC BY-NC-SA 4.0" in card
    assert card.count("Confusion matrix,") == 2 and "## Calibration" in card and "Reliability" in card
    # every baseline condition of the honest protocol is in the report and on the card
    conditions = outcome.report["evaluation"]["conditions"]
    expected = {"global", "all", "low_arousal", "high_arousal", "single_emotion", "random_20", "enrolment"}
    assert expected <= set(conditions)
    assert "Speaker baselines, honestly" in card and "low-arousal clips only" in card
    # the out-of-fold scores kept for later analysis are the app's (elements before calibration)
    from training.evaluate import OutOfFold
    oof = OutOfFold.from_json(outcome.report["out_of_fold"]["conditions"]["global"])
    assert sorted(oof.index.tolist()) == list(range(24))
    threshold = load_bundle(outcome.bundle_dir).uncertain_below
    assert f"below a calibrated confidence of {threshold:.2f}" in card


def test_the_uncertain_threshold_is_read_off_the_pooled_reliability_curve():
    """Where labels become more often right than wrong, over every recording alone and under
    every baseline condition."""
    import numpy as np

    from training.evaluate import CVResult, OutOfFold
    from training.pipeline import reliability_and_threshold
    from training.scoring import Scores

    rng = np.random.default_rng(0)
    n, labels = 400, rng.integers(0, 8, 400)
    conf = rng.uniform(0.15, 0.95, n)
    right = rng.uniform(size=n) < conf  # calibrated: right as often as confident

    def scores():
        logp = []
        for y, c, ok in zip(labels, conf, right, strict=True):
            p = np.full(8, (1 - c) / 7)
            p[y if ok else (y + 1) % 8] = c
            logp.append(np.log(p)[None])
        return Scores(logp, [np.ones(1, np.int64)] * n)

    oof = {c: OutOfFold(np.arange(n), np.zeros(n, np.int64), scores()) for c in ("global", "all", "low_arousal")}
    cv = CVResult([], oof, labels, {"global": 1.0, "speaker": 1.0}, {}, [])
    reliability, threshold = reliability_and_threshold(cv)
    assert abs(threshold - 0.5) <= 0.06
    assert sum(b["n"] for b in reliability["speaker"]) == 2 * n  # both speaker conditions pooled


def test_cancel_writes_nothing(tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(TrainingCancelled):
        run_training(data, tmp_path / "out", TrainConfig.quick(**TINY), cache_root=tmp_path / "cache",
                     should_stop=stop)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_fewest_training_actors_counts_each_folds_and_the_final_models():
    twenty = list(range(1, 21))
    assert fewest_training_actors(twenty, TrainConfig()) == 14  # 4 test and 2 validation actors a fold
    assert fewest_training_actors([1, 2, 3], TrainConfig(folds=3, val_actors=1)) == 1
    assert fewest_training_actors([1, 2], TrainConfig.quick()) == 1
    assert fewest_training_actors([1, 2, 3, 4], TrainConfig.quick()) == 2


def test_a_folder_too_small_for_the_teacher_trains_without_it_and_says_so(tmp_path):
    """The default recipe distils from a teacher cross-fitted by actor; two actors in a quick
    run leave one to train on, so the run goes on without the teacher and its bundle says so."""
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    events = []
    cfg = TrainConfig.quick(**{**TINY, "epochs": 1, "speeds": (), "noise_snrs": (), "distill": 0.5})
    outcome = run_training(data, tmp_path / "out", cfg, cache_root=tmp_path / "cache", progress=events.append,
                           litert=False)
    assert load_bundle(outcome.bundle_dir).manifest["training"]["config"]["distill"] == 0.0
    assert any("without the encoder teacher" in e.get("message", "") for e in events)


def test_too_few_actors_for_the_folds(tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    with pytest.raises(DatasetError, match="needs at least 5 actors"):
        run_training(data, tmp_path / "out", TrainConfig(**TINY), cache_root=tmp_path / "cache")


def test_an_ensemble_is_one_model_averaging_its_members(tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    cfg = TrainConfig.quick(**{**TINY, "epochs": 1, "ensemble": 2})
    outcome = run_training(data, tmp_path / "out", cfg, cache_root=tmp_path / "cache")
    bundle = load_bundle(outcome.bundle_dir)
    model = bundle.load_keras_model()
    assert model.get_layer("ensemble_mean") is not None
    # The LiteRT copy of the ensemble gives the same probabilities.
    import numpy as np

    from ser_engine.inference import run_model
    from ser_engine.litert import LiteRTModel

    lite = bundle.load_inference_model()
    assert isinstance(lite, LiteRTModel)
    x = np.random.default_rng(0).standard_normal((7,) + tuple(model.input_shape[1:])).astype(np.float32)
    np.testing.assert_allclose(run_model(lite, x, batch_size=4), run_model(model, x, batch_size=4), atol=1e-5, rtol=0)
    assert {layer.name for layer in model.layers} >= {"member0", "member1"}
    members = {h["member"] for h in outcome.report["history"]["final"]}
    assert members == {0, 1}


def test_multitask_residual_model_ships_the_emotion_head_only(tmp_path):
    """A model trained with intensity and sex heads keeps one output in its bundle (the
    Predictor and LiteRT path are unchanged), and the residual BiLSTM converts."""
    import numpy as np

    from ser_engine.inference import run_model

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    cfg = TrainConfig.quick(**{**TINY, "epochs": 1}, aux_weight=0.3, lstm_layers=2)
    outcome = run_training(data, tmp_path / "out", cfg, cache_root=tmp_path / "cache")
    bundle = load_bundle(outcome.bundle_dir)
    model = bundle.load_keras_model()
    assert len(model.outputs) == 1 and model.output_shape == (None, 8)
    assert {"bilstm1", "residual1"} <= {layer.name for layer in model.layers}
    x = np.random.default_rng(0).standard_normal((5,) + tuple(model.input_shape[1:])).astype(np.float32)
    np.testing.assert_allclose(run_model(bundle.load_inference_model(), x, batch_size=4),
                               run_model(model, x, batch_size=4), atol=1e-5, rtol=0)


def test_a_bundle_at_50_frames_per_second_places_speech_where_the_100_fps_one_does(tmp_path, tiny_bundle):
    """The frame-rate lever (hop 20 ms, windows of 150 frames): training, the bundle and the
    labelling path all read the frame rate from the bundle's feature config, so a recording's
    speech lands at the same seconds as with the shipped 100 frames per second."""
    import numpy as np
    import soundfile as sf

    from ser_engine.audio import load_audio
    from ser_engine.features import FeatureConfig
    from ser_engine.inference import WindowConfig
    from ser_engine.results import NO_SPEECH

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    cfg = TrainConfig.quick(**{**TINY, "epochs": 1, "window": WindowConfig(length=150, hop=50)},
                            feature=FeatureConfig(hop_length=320))
    outcome = run_training(data, tmp_path / "out", cfg, cache_root=tmp_path / "cache", litert=False)
    slow = Predictor(load_bundle(outcome.bundle_dir))
    assert slow.config.frame_rate == 50 and slow.window.length == 150
    clip = load_audio(ravdess_files([4], emotions=[5], per_emotion=1)[0], sr=16000)
    quiet = np.zeros(2 * 16000, np.float32)
    y = np.concatenate([quiet, clip, quiet, clip, quiet])

    path = tmp_path / "two-clips.wav"
    sf.write(path, y, 16000)

    def speech(predictor):
        timeline = predictor.analyse_recording(path)
        assert timeline.segments[-1].end == pytest.approx(len(y) / 16000, abs=0.03)
        return [(s.start, s.end) for s in timeline.segments if s.label != NO_SPEECH]

    at_50, at_100 = speech(slow), speech(Predictor(load_bundle(tiny_bundle)))
    assert at_50 and at_50[0][0] > 2.0 and at_50[-1][1] < len(y) / 16000 - 2.0
    assert at_50[0][0] == pytest.approx(at_100[0][0], abs=0.1)
    assert at_50[-1][1] == pytest.approx(at_100[-1][1], abs=0.1)
