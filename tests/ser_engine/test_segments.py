"""Long recordings: streaming features, voice activity, segments, progress, cancel, overview."""

import re

import numpy as np
import pytest

from ser_engine.audio import load_audio
from ser_engine.baseline import too_little_speech
from ser_engine.errors import AudioLoadError
from ser_engine.features import frame_energy
from ser_engine.results import NO_SPEECH
from ser_engine.segments import AnalysisCancelled, SegmentConfig, analyse_recording, file_sha256
from ser_engine.stream import (
    FileRange,
    FrameScan,
    compute_overview,
    file_ranges,
    iter_blocks,
    iter_ranges,
    ranges_read_alone,
    read_slice,
    region_features,
    region_sample_range,
)
from tests.conftest import ORIGINAL_48K, SPEECH_16K, requires_data
from tests.ser_engine.long_fixtures import (  # noqa: F401 (fixtures)
    build_long_recording,
    long_recording,
    shipped_predictor,
)

pytestmark = requires_data


@pytest.fixture(scope="module")
def timeline(shipped_predictor, long_recording):  # noqa: F811
    updates = []
    tl = analyse_recording(shipped_predictor, long_recording.path, on_block=updates.append)
    return tl, updates


def test_blocks_energies_and_region_features_equal_one_pass(shipped_predictor, long_recording):  # noqa: F811
    cfg = shipped_predictor.config
    y = load_audio(long_recording.path)
    blocks = list(iter_blocks(long_recording.path, block_seconds=3.3))
    assert all(len(b) == round(3.3 * 16000) for b in blocks[:-1])
    np.testing.assert_array_equal(np.concatenate(blocks), y)
    ref = shipped_predictor.features(y)
    scan = FrameScan(config=cfg, mel_bank=shipped_predictor._banks[0], mel_step=10)
    for b in blocks:
        scan.feed(b)
    energy, mel = scan.finish()
    np.testing.assert_allclose(energy, frame_energy(ref, config=cfg), atol=1e-3)
    np.testing.assert_allclose(mel, ref[::10, :cfg.n_mels], atol=1e-3)
    regions = [(0, 150), (400, 1000), (1795, len(ref))]  # at the start, inside, at the end
    ranges = [region_sample_range(lo, hi, config=cfg, n_samples=len(y)) for lo, hi in regions]
    got = dict(iter_ranges(long_recording.path, ranges, block_seconds=2.1))
    for r, (lo, hi) in enumerate(regions):
        np.testing.assert_array_equal(got[r], y[ranges[r][0]:ranges[r][1]])
        X = region_features(got[r], ranges[r][0], lo, hi, config=cfg, banks=shipped_predictor._banks)
        np.testing.assert_allclose(X, ref[lo:hi], atol=2e-4, rtol=2e-6)  # float32 sums in another order


@pytest.mark.parametrize(("fmt", "subtype", "channels"), [("WAV", "PCM_16", 1), ("WAV", "PCM_24", 2),
                                                         ("FLAC", "PCM_16", 1)])
def test_a_range_read_alone_equals_the_streamed_read(tmp_path, fmt, subtype, channels):
    """A spread recording's workers read their pieces' samples themselves (instead of
    receiving them through the scheduler): the same samples as one streamed read, bit for bit."""
    import soundfile as sf

    y = load_audio(sorted(SPEECH_16K.rglob("*.flac"))[0])
    data = np.stack([y * (0.5 + 0.5 * c) for c in range(channels)], axis=1)
    path = tmp_path / f"rec.{fmt.lower()}"
    sf.write(path, data, 16000, format=fmt, subtype=subtype)
    ranges = [(-40, 3000), (2500, 17000), (17000, 17000), (30000, len(y) + 999)]  # clipped as iter_ranges clips
    assert ranges_read_alone(path)
    streamed = dict(iter_ranges(path, ranges, block_seconds=0.7))
    alone = dict(file_ranges(path, ranges, n_samples=len(y)))
    assert [len(r) for r in alone.values()] == [len(v) for v in streamed.values()]
    for i, r in alone.items():
        np.testing.assert_array_equal(r.read(), streamed[i])


def test_ranges_are_read_alone_only_where_a_seek_gives_the_streamed_samples(tmp_path):
    """A resampled file's samples depend on the resampler's state from the start, and MP3's
    decoder primes its frames: those are decoded from the start by the recording's own worker."""
    import soundfile as sf

    y = load_audio(sorted(SPEECH_16K.rglob("*.flac"))[0])
    sf.write(tmp_path / "22k.wav", y, 22050)
    sf.write(tmp_path / "16k.mp3", y, 16000, format="MP3")
    assert not ranges_read_alone(sorted(ORIGINAL_48K.rglob("*.wav"))[0])
    assert not ranges_read_alone(tmp_path / "22k.wav")
    assert not ranges_read_alone(tmp_path / "16k.mp3")
    assert not ranges_read_alone(tmp_path / "missing.wav")


def test_a_range_of_a_file_that_shrank_since_names_the_file(tmp_path):
    import soundfile as sf

    path = tmp_path / "rec.wav"
    sf.write(path, np.zeros(8000, np.float32), 16000)
    with pytest.raises(AudioLoadError, match=r"rec\.wav.*ended at sample 8000, before 9000"):
        FileRange(str(path), 4000, 9000).read()
    path.write_bytes(b"not audio")
    with pytest.raises(AudioLoadError, match=r"rec\.wav.*could not be decoded"):
        FileRange(str(path), 0, 10).read()


def test_resampled_blocks_equal_load_audio():
    path = sorted(ORIGINAL_48K.rglob("*.wav"))[0]
    y = load_audio(path)
    np.testing.assert_allclose(np.concatenate(list(iter_blocks(path, block_seconds=1.0))), y, atol=1e-6)


def test_segments_cover_the_file_and_silence_is_no_speech(timeline, long_recording):  # noqa: F811
    tl, _ = timeline
    segs = tl.segments
    assert segs[0].start == 0 and segs[-1].end == pytest.approx(long_recording.duration, abs=0.011)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(segs, segs[1:], strict=False))
    assert all(a.label != b.label for a, b in zip(segs, segs[1:], strict=False))  # neighbours are merged
    quiet = [s for s in segs if s.label == NO_SPEECH]
    truth = long_recording.speech
    gaps = ([(0.0, truth[0][0])] + [(a[1], b[0]) for a, b in zip(truth, truth[1:], strict=False)]
            + [(truth[-1][1], tl.duration)])
    assert len(quiet) == len(gaps)
    for s, (g0, g1) in zip(quiet, gaps, strict=False):
        assert abs(s.start - g0) <= 0.5 and abs(s.end - g1) <= 0.5, (s, g0, g1)
        assert s.confidence is None and s.probabilities == {}


def test_labels_of_clear_clips_are_recovered(timeline, long_recording, shipped_predictor):  # noqa: F811
    tl, _ = timeline
    for t0, t1, label in long_recording.speech:
        time = {}
        for s in tl.segments:
            overlap = min(s.end, t1) - max(s.start, t0)
            if overlap > 0 and s.label != NO_SPEECH:
                time[s.label] = time.get(s.label, 0) + overlap
        assert max(time, key=time.get) == label, (t0, label, time)
    for s in tl.segments:
        if s.label != NO_SPEECH:
            assert abs(sum(s.probabilities.values()) - 1) < 1e-6
            assert s.confidence == pytest.approx(s.probabilities[s.label])
            assert s.uncertain == (s.confidence < shipped_predictor.bundle.uncertain_below)


def test_progress_updates_deliver_exactly_the_segments(timeline):
    tl, updates = timeline
    assert [u.stage for u in updates][0] == "reading" and updates[-1].stage == "labelling"
    fractions = [u.fraction for u in updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum((u.new_segments for u in updates), []) == tl.segments
    # the overview comes once, at the end of reading: the display draws it before any label
    with_view = [i for i, u in enumerate(updates) if u.overview is not None]
    assert len(with_view) == 1 and updates[with_view[0]].overview is tl.overview
    assert updates[with_view[0]].stage == "reading" and updates[with_view[0] + 1].stage != "reading"


def test_result_does_not_depend_on_block_sizes(shipped_predictor, long_recording, timeline):  # noqa: F811
    tl, _ = timeline
    small = analyse_recording(shipped_predictor, long_recording.path,
                              config=SegmentConfig(block_seconds=2.7, windows_per_block=2, feature_threads=1))
    assert [(s.label, round(s.start, 6), round(s.end, 6)) for s in small.segments] == \
        [(s.label, round(s.start, 6), round(s.end, 6)) for s in tl.segments]
    for a, b in zip(small.segments, tl.segments, strict=True):
        if a.label != NO_SPEECH:
            assert a.confidence == pytest.approx(b.confidence, abs=1e-4)


def test_summary_shares(timeline, long_recording):  # noqa: F811
    tl, _ = timeline
    s = tl.summary()
    assert sum(s.shares.values()) == pytest.approx(1.0)
    assert s.speech_seconds + s.no_speech_seconds == pytest.approx(tl.duration)
    speech = sum(t1 - t0 for t0, t1, _ in long_recording.speech)
    assert s.speech_seconds == pytest.approx(speech, abs=1.0 * len(long_recording.speech))
    assert set(s.seconds) == set(tl.labels)


def test_own_baseline_for_long_speech(shipped_predictor, long_recording, timeline):  # noqa: F811
    tl, _ = timeline
    assert tl.normalisation.mode == "global" and tl.normalisation.note is None  # under 30 s: global, by rule
    # asked for, a baseline from the recording's ~7 s of speech is refused, and the result says why
    forced = analyse_recording(shipped_predictor, long_recording.path, config=SegmentConfig(baseline="speaker"),
                               content_hash=False)
    assert forced.normalisation.mode == "global" and forced.sha256 is None
    assert "speaker baseline refused" in forced.normalisation.note and "at least 10 s" in forced.normalisation.note
    assert forced.probabilities == pytest.approx(tl.probabilities)
    assert tl.sha256 == file_sha256(long_recording.path)


def test_a_session_with_too_little_speech_for_its_own_baseline_says_why(shipped_predictor, tmp_path):  # noqa: F811
    # a session is expected to be its own baseline: the panel, report and exports say why it is
    # not (the speech counted, rounded down), where a clip's global statistics need no reason
    sparse = build_long_recording(tmp_path / "sparse.wav", pause=8.0)
    assert sparse.duration > 30.0
    tl = analyse_recording(shipped_predictor, sparse.path, content_hash=False)
    assert tl.normalisation.mode == "global"
    assert re.fullmatch(r"this recording: \d+\.\d s of speech, under the 30 s a baseline of its own needs",
                        tl.normalisation.note)
    assert tl.normalisation.describe().startswith("global statistics (training data); this recording: ")
    assert tl.normalisation.to_dict()["note"] == tl.normalisation.note
    assert too_little_speech("S2's speech in this recording", 29.96, 30.0) == \
        "S2's speech in this recording: 29.9 s of speech, under the 30 s a baseline of its own needs"


def test_should_stop_cancels_within_a_block(shipped_predictor, long_recording):  # noqa: F811
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(AnalysisCancelled, match="cancelled"):
        analyse_recording(shipped_predictor, long_recording.path, should_stop=stop,
                          config=SegmentConfig(block_seconds=2.0))
    assert len(calls) == 3


def test_bad_files_give_one_line(shipped_predictor, tmp_path):  # noqa: F811
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioLoadError) as err:
        analyse_recording(shipped_predictor, bad)
    assert "notes.wav" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AudioLoadError, match="not found"):
        analyse_recording(shipped_predictor, tmp_path / "missing.flac")


def test_overview_and_slices(timeline, long_recording):  # noqa: F811
    tl, _ = timeline
    y = load_audio(long_recording.path)
    ov = tl.overview
    assert ov.duration == pytest.approx(tl.duration)
    times, lo, hi = ov.envelope(0, ov.duration, 400)
    assert len(times) == 400 and lo.min() == pytest.approx(y.min()) and hi.max() == pytest.approx(y.max())
    assert (lo <= hi).all()
    alone = compute_overview(long_recording.path)
    np.testing.assert_array_equal(alone.mins, ov.mins)
    img, first = ov.mel_image(2.0, 6.0)
    assert img.shape == (40, 64) and first == pytest.approx(2.0)
    part = read_slice(long_recording.path, 3.0, 4.5)
    np.testing.assert_allclose(part, y[48000:72000], atol=1e-6)
    assert len(read_slice(long_recording.path, tl.duration + 1, tl.duration + 2)) == 0


def test_masked_stats_in_chunks_equal_the_statistics_of_the_masked_frames(rng):
    from ser_engine.normalise import masked_stats

    X = rng.normal(3.0, 2.0, size=(5000, 7)).astype(np.float32)
    mask = rng.uniform(size=5000) < 0.4
    got = masked_stats([X[:1234], X[1234:]], [mask[:1234], mask[1234:]], chunk=500)
    np.testing.assert_allclose(got.mean, X[mask].mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.std, X[mask].std(axis=0), rtol=1e-5)
    assert got.n_frames == mask.sum()
    with pytest.raises(ValueError):
        masked_stats([X], [np.zeros(len(X), bool)])


def test_a_recording_without_speech_is_one_no_speech_segment(shipped_predictor, tmp_path):  # noqa: F811
    import soundfile as sf

    rng = np.random.default_rng(0)
    for name, y in [("silence.wav", np.zeros(16000 * 5, np.float32)),
                    ("room.wav", (0.01 * rng.standard_normal(16000 * 5)).astype(np.float32))]:
        sf.write(tmp_path / name, y, 16000)
        tl = analyse_recording(shipped_predictor, tmp_path / name)
        assert [(s.start, s.end, s.label) for s in tl.segments] == [(0.0, 5.0, NO_SPEECH)], name
        assert tl.label == NO_SPEECH and tl.confidence is None and tl.summary().speech_seconds == 0


def test_blas_threads_are_restored_after_an_analysis(shipped_predictor, long_recording):  # noqa: F811
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    seen = []
    analyse_recording(shipped_predictor, long_recording.path, content_hash=False, on_block=lambda u: seen.append(
        [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]))
    assert all(n == 1 for ns in seen for n in ns)
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"] == before


def test_the_room_between_utterances_is_not_speech_when_it_is_30_dB_down(shipped_predictor, tmp_path):  # noqa: F811
    """Speech at -24 dBFS in a room at -55 dBFS: within 40 dB of the loudest frames lies the
    room itself, so the whole recording was "speech" and its baseline the room's."""
    import soundfile as sf

    from bench.rooms import BenchRoom, in_room
    from bench.sessions import one_speaker

    session = in_room(one_speaker(1, minutes=0.5, level=-24.0), BenchRoom("room", "pink", snr_db=31.0), seed=0)
    sf.write(tmp_path / "room.wav", session.audio, 16000)
    truth = [(c.start, c.end) for c in session.clips]
    tl = analyse_recording(shipped_predictor, tmp_path / "room.wav")
    pauses = [(a[1] + 0.3, b[0] - 0.3) for a, b in zip(truth, truth[1:], strict=False) if b[0] - a[1] > 1.0]
    quiet = [s for s in tl.segments if s.label == NO_SPEECH]
    silent = sum(max(0.0, min(s.end, p1) - max(s.start, p0)) for s in quiet for p0, p1 in pauses)
    assert silent >= 0.8 * sum(p1 - p0 for p0, p1 in pauses)
    assert tl.summary().speech_seconds <= 0.8 * tl.duration  # was all of it


def test_room_tone_louder_than_the_pauses_is_not_speech(shipped_predictor, tmp_path):  # noqa: F811
    """RAVDESS clips (their own room tone before and after the words) joined by quieter pauses.
    A rule that took every frame 15 dB above the quietest ones as speech, to find quiet
    speakers, called 90 % of such a 3-minute recording speech instead of 38 %."""
    from bench.bench_long import build_recording

    build_recording(tmp_path / "clips.wav", 3.0)
    tl = analyse_recording(shipped_predictor, tmp_path / "clips.wav")
    # The speech detector (ser_engine.vad) takes some of each clip's own room tone, louder than
    # the pauses joined between the files, for quiet speech: 63% here (the energy rule it
    # replaced: 38%), against 90% for the rule this test was written against; docs/vad.md.
    assert tl.summary().speech_seconds <= 0.7 * tl.duration


def test_scattered_loud_frames_are_no_speech_region():
    """Three single frames over the threshold within 0.32 s (clicks before a RAVDESS actor
    speaks) were joined by the gap filling into one "speech" region long enough to keep, and
    labelled: 0.00-0.45 s "fearful" in Actor_05's first clip. A region needs min_speech of
    speech frames, not only that span."""
    from ser_engine.features import FeatureConfig
    from ser_engine.segments import speech_regions

    cfg, seg = FeatureConfig(), SegmentConfig()
    mask = np.zeros(300, bool)
    mask[[3, 24, 34]] = True       # clicks: 3 frames spread over 0.32 s
    mask[150:180] = True           # a word: 0.30 s of speech frames
    assert speech_regions(mask, config=cfg, seg=seg) == [(140, 190)]
    # a word with its short gaps (a stop consonant) is still one region
    mask[160:164] = False
    assert speech_regions(mask, config=cfg, seg=seg) == [(140, 190)]


def test_the_clicks_before_a_clip_are_not_labelled(shipped_predictor):  # noqa: F811
    tl = analyse_recording(shipped_predictor, SPEECH_16K / "Actor_05" / "03-01-01-01-01-01-05.flac")
    assert tl.segments[0].label == NO_SPEECH and tl.segments[0].end >= 0.7


@pytest.fixture(scope="module")
def sad_session(tmp_path_factory, shipped_predictor):  # noqa: F811
    """About 50 s of speech, all sad: two actors' sad clips joined by pauses."""
    from tests.ser_engine.long_fixtures import build_long_recording

    clips = [(f"{p.parent.name}/{p.name}", "sad") for a in ("02", "04")
             for p in sorted((SPEECH_16K / f"Actor_{a}").glob("03-01-04-*.flac"))]
    return build_long_recording(tmp_path_factory.mktemp("sad") / "sad.wav", clips=clips, pause=1.0,
                                predictor=shipped_predictor)


def test_a_lopsided_session_is_labelled_under_its_own_mix(shipped_predictor, sad_session):  # noqa: F811
    updates = []
    own = analyse_recording(shipped_predictor, sad_session.path, on_block=updates.append)
    even = analyse_recording(shipped_predictor, sad_session.path, config=SegmentConfig(mix="training"))
    assert (own.emotion_mix, even.emotion_mix) == ("recording", "training")
    assert own.to_dict()["emotion_mix"] == "recording"
    # the training data's even mix pulls an all-sad session's share of sad down; its own mix does not
    assert own.label == "sad" and own.probabilities["sad"] > even.probabilities["sad"] + 0.05
    sad_time = [sum(s.duration for s in tl.segments if s.label == "sad") for tl in (own, even)]
    assert sad_time[0] >= sad_time[1]
    # one answer: the segments still average to it, and still tile the recording
    speech = [s for s in own.segments if s.is_speech]
    for lab in own.labels:
        mean = sum(s.probabilities[lab] * s.duration for s in speech) / sum(s.duration for s in speech)
        assert mean == pytest.approx(own.probabilities[lab], abs=2e-3)  # segment ends clipped to the file
    assert own.segments[0].start == 0 and own.segments[-1].end == pytest.approx(own.duration)
    # what streamed in was provisional (the training data's mix): the final timeline replaces it
    streamed = sum((u.new_segments for u in updates), [])
    assert [(s.start, s.end) for s in streamed if not s.is_speech] == \
        [(s.start, s.end) for s in own.segments if not s.is_speech]
