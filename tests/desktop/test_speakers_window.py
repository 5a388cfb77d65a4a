"""Speakers, neutral references and noise in the real window (issues 18, 21 and 23, window side),
driven as a user would: the Speakers control, the Speakers menu's questions, the S key, Ctrl+Z,
Shift+drag in the timeline, the Neutral reference menu; and what the panel, the timeline and the
exports then say."""

import csv
import shutil

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.conftest import ravdess_files, requires_data
from tests.desktop.test_analyse_tab import LONG, wait_idle

pytestmark = [requires_data, pytest.mark.gui]
SR = 16000


def _trimmed(path):
    from ser_engine.audio import load_audio

    y = load_audio(path, sr=SR)
    loud = np.flatnonzero(np.abs(y) > 0.04 * np.abs(y).max())
    return y[max(loud[0] - 1600, 0):loud[-1] + 1600]


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory):
    """~40 s: a man (actor 11: neutral and calm) and a woman (actor 12: every emotion) taking
    turns, 0.8 s apart, each at one speech level; the truth is who spoke when."""
    man = ravdess_files([11], emotions=[1, 2], per_emotion=4)
    woman = ravdess_files([12], emotions=[3, 4, 5, 6], per_emotion=2)
    rng = np.random.default_rng(7)
    pause = np.zeros(int(0.8 * SR), np.float32)
    pieces, truth, t = [pause], [], 0.8
    for a, b in zip(man, woman, strict=False):
        for speaker, path, level in ((0, a, 0.05), (1, b, 0.04)):
            y = _trimmed(path)
            y = y * (level / np.sqrt(np.mean(y ** 2)))
            pieces += [y.astype(np.float32), pause]
            truth.append((t, t + len(y) / SR, speaker))
            t += (len(y) + len(pause)) / SR
    audio = np.concatenate(pieces) + rng.standard_normal(sum(map(len, pieces))).astype(np.float32) * 1e-4
    dest = tmp_path_factory.mktemp("two") / "two-voices.wav"
    sf.write(dest, audio, SR, subtype="PCM_16")
    return dest, truth


def key(window, k, modifier=Qt.KeyboardModifier.NoModifier):
    """A key pressed in the Analyse tab (on the timeline, as after a click on it)."""
    window.signal_view.setFocus()
    QTest.keyClick(window.signal_view, k, modifier)


def speech_segment_of(result, review_speaker, who):
    return next(i for i, s in enumerate(result.segments) if s.is_speech and review_speaker(s) == who)


def test_two_speakers_named_the_patient_first_corrected_undone_and_exported(make_window, qtbot, two_voices, tmp_path):
    path, truth = two_voices
    w = make_window()
    wait_idle(qtbot, w, [str(path)])
    assert w.signal_view.strip.tiers() == ["model", "clinician"]  # one speaker: no speaker tier
    assert w.panel.answer_choices() == []
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.speakers_actions[1].trigger()  # Analysis ▸ Number of speakers ▸ 2
    assert w.speakers_combo.currentText() == "2"
    result = w.result_of(str(path))
    assert len(result.speakers) == 2
    strip, panel = w.signal_view.strip, w.panel
    assert strip.tiers() == ["speaker", "model", "clinician"]
    assert {name for _, _, name in strip.speaker_blocks()} == {"S1", "S2"}
    assert panel.speakers_text() == "2 speakers, as you said"
    assert panel.answer_choices() == ["S1", "S2", "All speakers"]
    # the found speakers are the two voices for most of the speech
    right = sum(min(b, e) - max(a, s) for s, e, who in truth for a, b, name in strip.speaker_blocks()
                if name == f"S{who + 1}" and min(b, e) > max(a, s))
    assert right / sum(e - s for s, e, _ in truth) > 0.8
    # the Speakers menu's questions: S2 is the patient; S1 the clinician
    w.dialogs.choices += ["S2", "S1", "Patient (S2)"]
    w.dialogs.texts += ["Patient", "Clinician"]
    w.rename_speaker_action.trigger()
    w.rename_speaker_action.trigger()
    w.patient_action.trigger()
    assert {name for _, _, name in strip.speaker_blocks()} == {"Patient", "Clinician"}
    assert panel.answer_choices() == ["Patient (S2)", "Clinician (S1)", "All speakers"]
    titles = panel.speaker_summaries.titles()
    assert titles[0].startswith("Patient (S2): ") and titles[1].startswith("Clinician (S1): ")
    patient = next(sp for sp in result.speakers if sp.index == 1)
    assert panel.headline().lower() == patient.label  # the patient's answer first
    assert panel.value_text() == f"{patient.confidence:.0%} of their speech"
    assert panel.bar_values()[0] == pytest.approx(patient.confidence, abs=1e-3)
    assert panel.bar_texts()[0] == f"{patient.confidence:.0%}" and panel.value_text().startswith(panel.bar_texts()[0])
    assert panel.speaker_summaries.shares()[0][patient.label] == pytest.approx(patient.confidence, abs=1e-6)
    # S gives the selected segment to the next speaker; Ctrl+Z takes it back
    reviews = w.session.reviews
    i = speech_segment_of(result, lambda s: reviews.speaker_of(result, s), 0)
    w.select_segment(i)
    assert panel.speaker_text().startswith("Spoken by Clinician (S1)")
    key(w, Qt.Key.Key_S)
    assert reviews.speaker_of(result, result.segments[i]) == 1
    seg = result.segments[i]
    assert any(a <= seg.start and seg.end <= b and name == "Patient" for a, b, name in strip.speaker_blocks())
    assert "your correction" in panel.speaker_text()
    key(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert reviews.speaker_of(result, result.segments[i]) == 0
    assert panel.speaker_text().startswith("Spoken by Clinician (S1)")
    key(w, Qt.Key.Key_S)  # again, to export it
    # the export names each segment's speaker as corrected
    with qtbot.waitSignal(w.exports.export_finished, timeout=LONG) as done:
        w.exports.export("csv", str(tmp_path / "two.csv"))
    assert done.args[1] == ""
    rows = list(csv.DictReader((tmp_path / "two.csv").open(encoding="utf-8")))
    segs = [r for r in rows if r["row"] == "segment"]
    assert segs[i]["speaker"] == "Patient" and {r["speaker"] for r in segs} == {"", "Patient", "Clinician"}
    assert [r["speaker"] for r in rows if r["row"] == "speaker_summary"][0] == "Patient"
    w.save_state(w._settings)
    w.close()
    # a restart: the count is remembered; the recording, opened again, is analysed with its
    # remembered count and its names, patient and moved segment come back from its review
    again = make_window()
    assert again.speakers_combo.currentText() == "2"
    wait_idle(qtbot, again, [str(path)])
    result = again.result_of(str(path))
    assert len(result.speakers) == 2 and again.session.entry(str(path)).speakers_used == 2
    assert again.panel.answer_choices()[0] == "Patient (S2)"
    assert again.session.reviews.speaker_of(result, result.segments[i]) == 1
    again.close()


def shift_drag(view, x0, x1):
    """Shift+drag with the left button across the timeline, from x0 to x1 (pixels of the view)."""
    strip_rect = view.strip.getViewBox().sceneBoundingRect()
    y = int(strip_rect.center().y())
    viewport = view.viewport()
    shift, left = Qt.KeyboardModifier.ShiftModifier, Qt.MouseButton.LeftButton

    def send(kind, x, buttons):
        pos = QPointF(x, y)
        event = QMouseEvent(kind, pos, viewport.mapToGlobal(QPoint(int(x), y)).toPointF(), left, buttons, shift)
        QApplication.sendEvent(viewport, event)

    send(QEvent.Type.MouseButtonPress, x0, left)
    for x in np.linspace(x0, x1, 8)[1:]:
        send(QEvent.Type.MouseMove, x, left)
    send(QEvent.Type.MouseButtonRelease, x1, Qt.MouseButton.NoButton)


def test_a_stretch_too_short_for_a_reference_is_refused_with_the_reason(window, qtbot):
    clip = str(ravdess_files([13], emotions=[1], per_emotion=1)[0])
    wait_idle(qtbot, window, [clip])
    view = window.signal_view
    box = view.strip.getViewBox().sceneBoundingRect()
    shift_drag(view, box.left() + box.width() * 0.2, box.left() + box.width() * 0.7)
    stretch = window.session.stretch
    assert stretch is not None and view.strip.stretch() == pytest.approx(stretch, abs=1e-6)
    duration = window.result_of(clip).duration
    assert stretch[0] == pytest.approx(0.2 * duration, abs=0.1 * duration)
    assert stretch[1] == pytest.approx(0.7 * duration, abs=0.1 * duration)
    before = window.result_of(clip)
    jobs = []
    window.session.events.job.connect(jobs.append)
    with qtbot.waitSignal(window._worker.reference_checked, timeout=LONG):
        window.reference_stretch_action.trigger()
    qtbot.waitUntil(lambda: window.session.checking_reference is None)
    warned = [text for kind, title, text in window.dialogs.asked if kind == "warn"]
    assert len(warned) == 1 and "s of speech" in warned[0] and "needs at least 10 s" in warned[0]
    assert window.panel.reference_problem_text().startswith("Reference not used: reference ")
    assert jobs == [] and window.result_of(clip) is before  # never used, nothing analysed again


def test_a_reference_normalises_the_recordings_of_its_folder(window, qtbot, two_voices, tmp_path):
    folder = tmp_path / "patient"
    (folder / "visit1").mkdir(parents=True)
    reference = folder / "neutral-talk.wav"
    shutil.copy(two_voices[0], reference)
    clips = []
    for src in ravdess_files([12], emotions=[3, 5], per_emotion=1):
        clips.append(folder / "visit1" / src.name)
        shutil.copy(src, clips[-1])
    other = tmp_path / "other.flac"
    shutil.copy(ravdess_files([14], emotions=[2], per_emotion=1)[0], other)
    wait_idle(qtbot, window, [str(reference), *map(str, clips), str(other)])
    window.select_path(str(reference))
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.reference_file_action.trigger()
    for p in [reference, *clips]:
        norm = window.result_of(str(p)).normalisation
        assert norm.mode == "speaker" and norm.source == "reference neutral-talk.wav", norm
    assert window.result_of(str(other)).normalisation.mode == "global"
    window.select_path(str(clips[0]))
    assert window.panel.normalisation_text() == ("Normalised with "
                                                 + window.result_of(str(clips[0])).normalisation.describe())
    assert window.panel.reference_text() == "Neutral reference for the recordings under patient: neutral-talk.wav"
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.reference_clear_action.trigger()
    assert window.result_of(str(clips[0])).normalisation.mode == "global" and window.panel.reference_text() == ""


def test_a_noisy_recording_says_it_is_too_noisy_with_its_snr(window, qtbot, tmp_path):
    from ser_engine.audio import load_audio
    from ser_engine.vad import SNR_UNCERTAIN_DB

    y = load_audio(ravdess_files([9], emotions=[5], per_emotion=1)[0], sr=SR)
    loud = np.abs(y) > 0.02 * np.abs(y).max()
    noise = np.random.default_rng(0).standard_normal(len(y)) * np.sqrt(np.mean(y[loud] ** 2))  # 0 dB
    noisy = tmp_path / "noisy.wav"
    sf.write(noisy, (y + noise).astype(np.float32), SR)
    wait_idle(qtbot, window, [str(noisy)])
    window.select_path(str(noisy))
    result = window.result_of(str(noisy))
    assert result.snr_db is not None and result.snr_db < SNR_UNCERTAIN_DB and result.uncertain
    panel = window.panel
    assert f"too noisy: speech only {result.snr_db:.0f} dB above the noise" in panel.uncertain_text()
    assert panel.noise_text() == f"Speech above the noise: {result.snr_db:.0f} dB (recording)"
    assert "quiet speech" not in panel.uncertain_text()  # one utterance: its own speech, found or not
    seg = next(i for i, s in enumerate(result.segments) if s.is_speech)
    window.select_segment(seg)
    assert f"{result.segments[seg].snr_db:.0f} dB (this segment)" in panel.noise_text()
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG):
        window.exports.export("csv", str(tmp_path / "noisy.csv"))
    rows = [r for r in csv.DictReader((tmp_path / "noisy.csv").open(encoding="utf-8")) if r["row"] == "segment"]
    assert float(rows[seg]["snr_db"]) == pytest.approx(result.segments[seg].snr_db, abs=0.05)
