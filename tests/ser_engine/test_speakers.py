"""Speaker turns (ser_engine.speakers): voices found, turns that partition the speech, the
count honoured when given, determinism, and clear errors for bad input."""

import dataclasses

import numpy as np
import pytest

from ser_engine.bundle import load_bundle
from ser_engine.features import FeatureConfig, compute_features
from ser_engine.paths import shipped_model_dir
from ser_engine.segments import speech_regions
from ser_engine.speakers import (
    SpeakerConfig,
    SpeakerError,
    SpeakerSpace,
    SpeakerTracker,
    SpeakerTurns,
    fit_space,
    load_space,
    speaker_turns,
)
from ser_engine.vad import speech_mask
from tests.conftest import SPEECH_16K, requires_data

SR = 16000
EMOTIONS = range(1, 9)


@pytest.fixture(scope="module")
def shipped():
    bundle = load_bundle(shipped_model_dir())
    return bundle.feature_config, bundle.filter_banks()


def _clip(path, level_db):
    from ser_engine.audio import load_audio

    y = load_audio(path)
    loud = np.flatnonzero(np.abs(y) > 0.1 * np.abs(y).max())  # the clip without its silent ends
    y = y[max(loud[0] - 1600, 0):loud[-1] + 1600]
    return y * (10 ** (level_db / 20) / float(np.sqrt(np.mean(y ** 2))))


def _recording(turns, *, config, banks, seed=0):
    """A session of ``turns`` = ``[(speaker, [paths])]``: each clip trimmed, at its speaker's
    level, after a pause of 0.3-1.2 s. Returns (regions, frames per region, true speaker per frame)."""
    rng = np.random.default_rng(seed)
    levels = {0: -22.0, 1: -27.0}
    pieces, truth, n = [], [], 0
    for who, paths in turns:
        for p in paths:
            gap = int(rng.uniform(0.3, 1.2) * SR)
            y = _clip(p, levels[who])
            pieces += [np.zeros(gap, np.float32), y.astype(np.float32)]
            truth.append((n + gap, n + gap + len(y), who))
            n += gap + len(y)
    audio = np.concatenate(pieces + [np.zeros(SR, np.float32)])
    X = compute_features(audio, config=config, banks=banks)
    mask = speech_mask(audio, sample_rate=SR, hop_length=config.hop_length)  # the app's speech detector
    regions = speech_regions(mask[:len(X)], config=config)
    t = np.full(len(X), -1)
    for a, b, who in truth:
        t[a // config.hop_length:b // config.hop_length] = who
    return regions, [X[lo:hi] for lo, hi in regions], t


def _clips(actor, emotions, per=2):
    folder = SPEECH_16K / f"Actor_{actor:02d}"
    return [p for e in emotions for p in sorted(folder.glob(f"03-01-{e:02d}-*.flac"))[:per]]


@pytest.fixture(scope="module")
def two_voices(shipped):
    """Actor 11 (male) calm and neutral, actor 12 (female) in every emotion, turn by turn."""
    config, banks = shipped
    calm = _clips(11, (1, 2), per=6)
    lively = _clips(12, EMOTIONS, per=2)
    turns = []
    for i in range(8):
        turns += [(0, calm[i::8]), (1, lively[2 * i:2 * i + 2])]
    return _recording([t for t in turns if t[1]], config=config, banks=banks)


@pytest.fixture(scope="module")
def one_voice(shipped):
    """Actor 19 alone, two clips of every emotion. (Not every voice stays one: actor 13's
    recording of the same kind splits in two; bench/bench_speakers.py gives the rate.)"""
    config, banks = shipped
    clips = _clips(19, EMOTIONS, per=2)
    return _recording([(0, clips[i:i + 2]) for i in range(0, len(clips), 2)], config=config, banks=banks, seed=1)


def _attribution(turns, truth):
    """Share of the clips' frames inside the turns given to their own speaker (best mapping)."""
    found = turns.speaker_at(np.arange(len(truth)))
    m = (truth >= 0) & (found >= 0)
    best = 0
    for perm in ([0, 1], [1, 0]):
        best = max(best, np.mean(np.array(perm)[np.minimum(found[m], 1)] == truth[m]))
    return best


def _assert_partition(turns, regions):
    """Turns lie in time order, within the regions, and cover each region exactly."""
    assert [t[0] for t in turns.turns] == sorted(t[0] for t in turns.turns)
    covered = []
    for lo, hi, k in turns.turns:
        assert hi > lo and 0 <= k < turns.n_speakers
        if covered and covered[-1][1] == lo:
            covered[-1] = (covered[-1][0], hi)
        else:
            covered.append((lo, hi))
    assert covered == [tuple(r) for r in regions]


# -- real voices ------------------------------------------------------------------------------


@requires_data
def test_two_voices_are_found_as_two(two_voices, shipped):
    regions, feats, truth = two_voices
    turns = speaker_turns(regions, feats, config=shipped[0])
    assert turns.n_speakers == 2
    assert _attribution(turns, truth) >= 0.9
    _assert_partition(turns, regions)
    # S1 is whoever speaks first
    first = truth[(truth >= 0)][0]
    assert turns.turns[0][2] == 0 and truth[turns.turns[0][0]:turns.turns[0][1]].max() == first


@requires_data
def test_one_voice_across_emotions_stays_one(one_voice, shipped):
    regions, feats, _ = one_voice
    turns = speaker_turns(regions, feats, config=shipped[0])
    assert turns.n_speakers == 1
    _assert_partition(turns, regions)
    assert turns.turn_counts() == [1]
    assert turns.speaking_time() == pytest.approx([sum(hi - lo for lo, hi in regions) / 100.0])


@requires_data
@pytest.mark.parametrize("given", [1, 2, 3])
def test_a_given_number_of_speakers_is_honoured(two_voices, one_voice, shipped, given):
    for regions, feats, _ in (two_voices, one_voice):
        turns = speaker_turns(regions, feats, config=shipped[0], n_speakers=given)
        assert turns.n_speakers == given
        assert sorted({k for _, _, k in turns.turns}) == list(range(given))
        _assert_partition(turns, regions)


@requires_data
def test_given_two_the_two_voices_are_told_apart(two_voices, shipped):
    regions, feats, truth = two_voices
    assert _attribution(speaker_turns(regions, feats, config=shipped[0], n_speakers=2), truth) >= 0.9


@requires_data
def test_streamed_in_pieces_equals_whole_regions_and_runs_agree(two_voices, shipped):
    """Frames handed in chunks of any size give the same turns as whole regions (the analysis
    computes long regions in chunks), and a second run gives the same answer."""
    regions, feats, _ = two_voices
    config = shipped[0]
    whole = speaker_turns(regions, feats, config=config)
    rng = np.random.default_rng(3)
    tracker = SpeakerTracker(config=config)
    for (lo, hi), X in zip(regions, feats, strict=True):
        cuts = np.unique(np.r_[lo, np.sort(rng.integers(lo + 1, hi, size=3)), hi])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            tracker.add(a, b, X[a - lo:b - lo])
    pieces = tracker.finish()
    assert pieces == whole
    assert speaker_turns(regions, feats, config=config) == whole


@requires_data
def test_summary_adds_up(two_voices, shipped):
    regions, feats, _ = two_voices
    turns = speaker_turns(regions, feats, config=shipped[0])
    summary = turns.summary()
    assert [s["speaker"] for s in summary] == ["S1", "S2"]
    assert sum(s["speaking_time"] for s in summary) == pytest.approx(sum(hi - lo for lo, hi in regions) / 100.0)
    assert sum(s["share"] for s in summary) == pytest.approx(1.0)
    # a turn is a run of one speaker: the counts differ by at most one
    counts = [s["turns"] for s in summary]
    assert min(counts) >= 1 and abs(counts[0] - counts[1]) <= 1


# -- no data needed ------------------------------------------------------------------------------


CONFIG = FeatureConfig()


def _frames(rng, n):
    X = rng.normal(size=(n, CONFIG.n_features)).astype(np.float32)
    names = CONFIG.feature_names()
    X[:, names.index("log_energy")] = rng.uniform(-40, -10, n)
    X[:, names.index("voicing")] = rng.uniform(0, 1, n)
    return X


@pytest.fixture(scope="module")
def space():
    if CONFIG.feature_names() != list(load_space().feature_names):
        pytest.skip("the shipped speaker space was fitted on other feature settings")
    return load_space()


def test_no_speech_means_no_speakers(space):
    for n in (None, 2):
        turns = speaker_turns([], [], config=CONFIG, n_speakers=n, space=space)
        assert turns == SpeakerTurns([], 0, CONFIG.frame_rate)
        assert turns.summary() == [] and turns.names == []
        assert (turns.speaker_at([0, 10]) == -1).all()


def test_turns_partition_any_regions(rng, space):
    regions = [(30, 95), (140, 600), (650, 651), (700, 1330), (1500, 1720)]
    feats = [_frames(rng, hi - lo) for lo, hi in regions]
    for n in (None, 1, 2, 4):
        turns = speaker_turns(regions, feats, config=CONFIG, n_speakers=n, space=space)
        _assert_partition(turns, regions)
        assert turns.speaker_at([0, 96, 1400]).tolist() == [-1, -1, -1]
        assert (turns.speaker_at([30, 650, 1719]) >= 0).all()


def test_a_change_inside_a_region_lies_on_a_block_edge(rng, space):
    regions = [(0, 1000)]
    turns = speaker_turns(regions, [_frames(rng, 1000)], config=CONFIG, n_speakers=3, space=space)
    block = int(SpeakerConfig().block_seconds * CONFIG.frame_rate)
    assert all(lo % block == 0 for lo, _, _ in turns.turns)


@pytest.mark.parametrize("regions, shapes, message", [
    ([(0, 100)], [(100, 5)], "expected features of shape"),
    ([(0, 100)], [(99, None)], "expected features of shape"),
    ([(0, 100), (50, 120)], [(100, None), (70, None)], "time order"),
    ([(100, 100)], [(0, None)], "non-empty"),
    ([(0, 100)], [], "1 speech regions but 0 arrays"),
])
def test_bad_regions_or_frames_say_what_is_wrong(rng, space, regions, shapes, message):
    feats = [rng.normal(size=(n, CONFIG.n_features if w is None else w)) for n, w in shapes]
    with pytest.raises(SpeakerError, match=message):
        speaker_turns(regions, feats, config=CONFIG, space=space)


def test_non_finite_frames_are_refused(rng, space):
    X = _frames(rng, 200)
    X[7, 3] = np.nan
    with pytest.raises(SpeakerError, match="NaN or infinite"):
        speaker_turns([(0, 200)], [X], config=CONFIG, space=space)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_a_bad_number_of_speakers_is_refused(rng, space, n):
    with pytest.raises(SpeakerError, match="number of speakers"):
        speaker_turns([(0, 300)], [_frames(rng, 300)], config=CONFIG, n_speakers=n, space=space)


def test_features_without_pitch_are_refused():
    with pytest.raises(SpeakerError, match="needs the features"):
        SpeakerTracker(config=dataclasses.replace(CONFIG, pitch=False))


def test_a_space_of_other_features_is_refused(rng, space):
    other = SpeakerSpace(space.scale, space.projection, tuple(reversed(space.feature_names)), space.settings)
    with pytest.raises(SpeakerError, match="other features"):
        speaker_turns([(0, 300)], [_frames(rng, 300)], config=CONFIG, space=other)


def test_the_space_round_trips_and_a_broken_one_is_named(tmp_path, space):
    space.save(tmp_path / "space.npz")
    again = load_space(tmp_path / "space.npz")
    assert np.allclose(again.projection, space.projection, atol=1e-6) and again.feature_names == space.feature_names
    (tmp_path / "bad.npz").write_bytes(b"not a space")
    with pytest.raises(SpeakerError, match="bad.npz"):
        load_space(tmp_path / "bad.npz")
    with pytest.raises(SpeakerError, match="missing.npz"):
        load_space(tmp_path / "missing.npz")


def test_windows_without_voiced_frames_leave_the_fitted_space_finite(rng, space):
    """A window with no voiced frame has NaN F0 statistics; the fit takes them as the
    group's mean (as embedding does), instead of a space of NaN that fails every recording."""
    n_stats = len(space.scale)
    groups = [rng.normal(size=(40, n_stats)) + k for k in range(3)]
    for g in groups:
        g[::5, -2:] = np.nan
    fitted = fit_space(groups, config=CONFIG)
    assert np.isfinite(fitted.scale).all() and np.isfinite(fitted.projection).all()
    clean = fit_space([np.where(np.isfinite(g), g, np.nanmean(g, axis=0)) for g in groups], config=CONFIG)
    assert np.allclose(fitted.projection[:-2, :-2], clean.projection[:-2, :-2], atol=0.2)
    turns = speaker_turns([(0, 400)], [_frames(rng, 400)], config=CONFIG, space=fitted)
    assert turns.n_speakers >= 1


# -- the speech encoder's states ------------------------------------------------------------------


DIM = 384


@pytest.fixture(scope="module")
def space_with_states():
    """A space with an encoder part, fitted on synthetic voices: each group's classic
    statistics and states vary around its own mean by about 1."""
    rng = np.random.default_rng(11)
    n_stats = len(load_space().scale)
    groups = [rng.normal(size=(60, n_stats)) + rng.normal(size=n_stats) for _ in range(6)]
    states = [rng.normal(size=(60, DIM)) + rng.normal(size=DIM) for _ in range(6)]
    return fit_space(groups, config=CONFIG, encoder_groups=states, encoder="whisper-tiny.en", encoder_dims=16)


def _two_voices_in_the_states(rng, n=1200, shift=3.0):
    """One region whose classic frames are alike throughout while its encoder states change
    at the middle (a second voice the states hear)."""
    X = _frames(rng, n)
    states = rng.normal(size=((n + 1) // 2, DIM)) * 0.3
    states[len(states) // 2:, :32] += shift
    return [(0, n)], [X], [states]


def test_encoder_states_enter_the_space_that_reads_them(rng, space_with_states):
    regions, feats, states = _two_voices_in_the_states(rng)
    turns = speaker_turns(regions, feats, config=CONFIG, n_speakers=2, space=space_with_states,
                          states=states, encoder="whisper-tiny.en")
    who = turns.speaker_at(np.arange(1200))
    assert (who[:550] == who[0]).mean() > 0.9 and (who[650:] != who[0]).mean() > 0.9
    # estimated: the states' change is a second speaker
    assert speaker_turns(regions, feats, config=CONFIG, space=space_with_states, states=states,
                         encoder="whisper-tiny.en").n_speakers == 2


def test_states_of_another_encoder_or_none_leave_the_classic_space(rng, space_with_states):
    regions, feats, states = _two_voices_in_the_states(rng)
    classic = speaker_turns(regions, feats, config=CONFIG, n_speakers=2, space=space_with_states)
    other = speaker_turns(regions, feats, config=CONFIG, n_speakers=2, space=space_with_states, states=states,
                          encoder="another-encoder")
    assert other == classic
    unnamed = speaker_turns(regions, feats, config=CONFIG, n_speakers=2, space=space_with_states, states=states)
    assert unnamed == classic
    plain = SpeakerSpace(space_with_states.scale, space_with_states.projection, space_with_states.feature_names,
                         space_with_states.settings)
    assert speaker_turns(regions, feats, config=CONFIG, n_speakers=2, space=plain, states=states,
                         encoder="whisper-tiny.en") == classic


def test_states_streamed_with_pieces_equal_whole_regions(rng, space_with_states):
    regions = [(0, 340), (500, 1720), (1900, 2000)]
    feats = [_frames(rng, hi - lo) for lo, hi in regions]
    states = [rng.normal(size=((hi - lo + 1) // 2, DIM)) + 2.0 * (k == 1) for k, (lo, hi) in enumerate(regions)]
    whole = speaker_turns(regions, feats, config=CONFIG, space=space_with_states, states=states,
                          encoder="whisper-tiny.en")
    tracker = SpeakerTracker(config=CONFIG, encoder="whisper-tiny.en")
    for (lo, hi), X in zip(regions, feats, strict=True):
        for a in range(lo, hi, 128):
            tracker.add(a, min(a + 128, hi), X[a - lo:min(a + 128, hi) - lo])
    for (lo, _), st in zip(regions, states, strict=True):
        tracker.add_states(lo, st)
    assert tracker.finish(space=space_with_states) == whole


def test_bad_encoder_states_say_what_is_wrong(rng, space_with_states):
    regions, feats, states = _two_voices_in_the_states(rng, n=400)
    tracker = SpeakerTracker(config=CONFIG, encoder="whisper-tiny.en")
    tracker.add(0, 400, feats[0])
    with pytest.raises(SpeakerError, match="no speech region starts"):
        tracker.add_states(10, states[0])
    with pytest.raises(SpeakerError, match="expected 200 finite encoder states"):
        tracker.add_states(0, states[0][:-1])
    bad = states[0].copy()
    bad[3, 3] = np.nan
    with pytest.raises(SpeakerError, match="finite"):
        tracker.add_states(0, bad)
    with pytest.raises(SpeakerError, match="without an encoder"):
        SpeakerTracker(config=CONFIG).add_states(0, states[0])
    two = [(0, 400), (600, 900)]
    partial = SpeakerTracker(config=CONFIG, encoder="whisper-tiny.en")
    for lo, hi in two:
        partial.add(lo, hi, _frames(rng, hi - lo))
    partial.add_states(0, states[0])
    with pytest.raises(SpeakerError, match="every speech region or none"):
        partial.finish(space=space_with_states)
    with pytest.raises(SpeakerError, match="2 speech regions but 1 arrays of encoder states"):
        speaker_turns(two, [_frames(rng, 400), _frames(rng, 300)], config=CONFIG, space=space_with_states,
                      states=states, encoder="whisper-tiny.en")


def test_a_space_with_an_encoder_part_round_trips_and_an_older_one_still_loads(tmp_path, space_with_states, space):
    space_with_states.save(tmp_path / "space.npz")
    again = load_space(tmp_path / "space.npz")
    assert again.encoder == "whisper-tiny.en" and again.reads("whisper-tiny.en") and not again.reads(None)
    assert np.allclose(again.encoder_projection, space_with_states.encoder_projection, atol=1e-5)
    assert again.encoder_projection.shape == (DIM, 16)
    with np.load(tmp_path / "space.npz") as z:  # a version-1 file: the classic part alone
        np.savez(tmp_path / "v1.npz", **{k: (np.array(1) if k == "version" else z[k]) for k in z.files
                                        if not k.startswith("encoder")})
    old = load_space(tmp_path / "v1.npz")
    assert old.encoder is None and not old.reads("whisper-tiny.en")
