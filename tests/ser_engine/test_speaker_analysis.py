"""Speaker turns inside the analysis: windows and segments cut at turns, each speaker's own
baseline and answer, the same on a file and on an array, in the JSON and the CLI."""

import json

import numpy as np
import pytest

from ser_engine.audio import load_audio
from ser_engine.segments import SegmentConfig
from tests.conftest import requires_data
from tests.ser_engine.long_fixtures import shipped_predictor  # noqa: F401 (fixture)

pytestmark = requires_data


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory):
    """A male actor across emotions and a female one calm, taking turns (bench/sessions.py)."""
    from bench.sessions import actor_clips, assemble

    rng = np.random.default_rng(3)
    a, b = actor_clips(3), actor_clips(8, ("calm", "neutral"))
    items = []
    for _ in range(10):
        items += [(a[rng.integers(len(a))], 0, -26), (b[rng.integers(len(b))], 1, -26)]
    session = assemble(items, pause=(0.6, 1.5), seed=1)
    return session, session.write(tmp_path_factory.mktemp("two") / "two.wav")


def _attributed(tl, session):
    """Share of the clips' speech time whose segment has the clip's speaker (best mapping)."""
    best = 0.0
    for mapping in ({0: 0, 1: 1}, {0: 1, 1: 0}):
        right = total = 0.0
        for c in session.clips:
            for s in tl.segments:
                overlap = min(s.end, c.end) - max(s.start, c.start)
                if overlap > 0 and s.speaker is not None:
                    total += overlap
                    right += overlap * (mapping[c.speaker] == s.speaker)
        best = max(best, right / total)
    return best


def test_segments_never_span_two_speakers_and_each_speaker_has_an_answer(shipped_predictor, two_voices):  # noqa: F811
    session, wav = two_voices
    tl = shipped_predictor.analyse_recording(wav, config=SegmentConfig(speakers=2))
    assert [sp.name for sp in tl.speakers] == ["S1", "S2"]
    assert _attributed(tl, session) >= 0.9
    speech = [s for s in tl.segments if s.is_speech]
    assert all(s.speaker in (0, 1) for s in speech) and all(s.speaker is None for s in tl.segments if not s.is_speech)
    for sp in tl.speakers:
        assert sp.turns >= 5 and sp.label == max(sp.probabilities, key=sp.probabilities.get)
        assert sum(sp.probabilities.values()) == pytest.approx(1)
        own = sum(s.duration for s in speech if s.speaker == sp.index)
        assert sp.speaking_seconds == pytest.approx(own, abs=0.05)
    # the recording's answer is its speakers' answers weighed by their speaking time
    total = sum(sp.speaking_seconds for sp in tl.speakers)
    for k in tl.labels:
        mixed = sum(sp.probabilities[k] * sp.speaking_seconds for sp in tl.speakers) / total
        assert tl.probabilities[k] == pytest.approx(mixed, abs=0.01)
    # each speaker under 30 s of speech: global statistics, each saying so
    assert {sp.normalisation.mode for sp in tl.speakers} == {"global"}
    assert [sp.normalisation.speaker for sp in tl.speakers] == [0, 1]  # whose speech it would have been


def test_a_file_and_its_samples_give_the_same_turns_and_answers(shipped_predictor, two_voices):  # noqa: F811
    _, wav = two_voices
    cfg = SegmentConfig(speakers=2)
    a = shipped_predictor.analyse_recording(wav, config=cfg)
    b = shipped_predictor.predict_array(load_audio(wav), path=str(wav), config=cfg)
    assert [(round(s.start, 2), s.label, s.speaker) for s in a.segments] == \
        [(round(s.start, 2), s.label, s.speaker) for s in b.segments]
    # The two paths' Whisper log-mels differ in the last bit of about 1 value in 1,000 (FFT and
    # BLAS on arrays laid out differently: at most 2.4e-7); the encoder's int8 quantisation turns
    # that into states up to 0.17 apart on this AMD EPYC (AVX2), and each speaker's shares up to
    # 7e-4 apart (within 1e-4 on the Intel machines this test ran on before). The labels and
    # speakers above are the same.
    for x, y in zip(a.speakers, b.speakers, strict=True):
        np.testing.assert_allclose(list(x.probabilities.values()), list(y.probabilities.values()), atol=2e-3)


def test_one_speaker_by_default_and_speakers_in_the_json(shipped_predictor, two_voices, capsys):  # noqa: F811
    from ser_engine.cli import main
    from ser_engine.results import Timeline

    _, wav = two_voices
    plain = shipped_predictor.analyse_recording(wav)
    assert plain.speakers == [] and all(s.speaker is None for s in plain.segments)
    assert main(["predict", str(wav), "--json", "--speakers", "2"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert [sp["speaker"] for sp in row["speakers"]] == ["S1", "S2"]
    assert all("summary" in sp and sp["summary"]["speech_seconds"] > 0 for sp in row["speakers"])
    assert {s.get("speaker") for s in row["segments"] if s["label"] != "no speech"} == {"S1", "S2"}
    back = Timeline.from_dict(row)
    assert [sp.name for sp in back.speakers] == ["S1", "S2"] and back.segments[1].speaker in (0, 1)


def test_the_speaker_step_hears_the_encoder_states_on_the_file_and_the_array_paths(shipped_predictor, two_voices,  # noqa: F811
                                                                                  monkeypatch):
    """The shipped model computes encoder states; the speaker step reads them beside the
    classic statistics on both paths (a file streamed, an array in memory), and the two
    estimate the same speakers."""
    from ser_engine import speakers

    if speakers.load_space().encoder is None or not shipped_predictor.front_end.uses_encoder:
        pytest.skip("the shipped model or speaker space has no encoder part")
    calls = []
    real = speakers.embed_states

    def spy(states, space):
        calls.append(len(states))
        return real(states, space)

    monkeypatch.setattr(speakers, "embed_states", spy)
    session, wav = two_voices
    cfg = SegmentConfig(speakers=None)
    a = shipped_predictor.analyse_recording(wav, config=cfg)
    b = shipped_predictor.predict_array(load_audio(wav), path=str(wav), config=cfg)
    assert len(calls) == 2 and calls[0] == calls[1] > 10
    assert [sp.name for sp in a.speakers] == [sp.name for sp in b.speakers] == ["S1", "S2"]
    assert [(round(s.start, 2), s.speaker) for s in a.segments] == [(round(s.start, 2), s.speaker) for s in b.segments]
    assert _attributed(a, session) >= 0.9
