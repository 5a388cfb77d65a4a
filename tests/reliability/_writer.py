"""A writer process for the kill -9 tests: ``python -m tests.reliability._writer MODE STAGE DEST TAG``.

MODE ``bundle`` writes a model bundle with :func:`ser_engine.bundle.write_bundle` (the shipped
bundle's files and manifest, a card saying TAG; a stand-in model object copies the shipped
``model.keras`` so no TensorFlow is needed); MODE ``text`` writes TAG repeated to a text file
with :func:`ser_engine.atomic.atomic_write_text`; MODE ``export`` exports a timeline of model TAG
as CSV with :func:`ser_engine.exports.export_timeline`; MODE ``review`` saves a clinician review
of a recording named TAG with :func:`ser_engine.review.save_review`. When the write reaches
STAGE the process prints ``AT <STAGE>`` and waits to be killed; STAGE ``none`` writes to the end.
"""

import os
import sys
import time

import ser_engine.atomic as atomic
import ser_engine.bundle as bundle
from ser_engine.paths import shipped_model_dir

BUNDLE_STAGES = ("writing", "before-swap", "mid-swap", "after-swap")
TEXT_STAGES = ("writing", "before-rename", "after-rename")


def _stop_here(stage):
    print(f"AT {stage}", flush=True)
    time.sleep(120)  # the parent kills us long before
    sys.exit(3)


class _StandInModel:
    """What write_bundle needs of a Keras model: ``save(path)``; written in two halves so a
    kill can land in the middle of the file."""

    def __init__(self, source, stage):
        self.data = source.read_bytes()
        self.stage = stage

    def save(self, path):
        half = len(self.data) // 2
        with open(path, "wb") as fh:
            fh.write(self.data[:half])
            fh.flush()
            if self.stage == "writing":
                _stop_here("writing")
            fh.write(self.data[half:])


def _hook_replace(stage_before, stage_after):
    """Stop before the replace numbered in ``stage_before`` or after the one in ``stage_after``
    ({n: stage}); every os.replace in this process goes through it."""
    real = os.replace
    calls = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        calls["n"] += 1
        n = calls["n"]
        if n in stage_before:
            _stop_here(stage_before[n])
        result = real(src, dst, *args, **kwargs)
        if n in stage_after:
            _stop_here(stage_after[n])
        return result

    os.replace = replace


def _stop_in_atomic_write(stage):
    """Stop an atomic file write at ``stage`` (one of TEXT_STAGES)."""
    if stage == "writing":
        real_fsync = os.fsync

        def fsync(fd):
            _stop_here("writing")  # the data is in the temporary file, not yet renamed
            return real_fsync(fd)

        atomic.os.fsync = fsync
    elif stage == "before-rename":
        _hook_replace({1: stage}, {})
    elif stage == "after-rename":
        _hook_replace({}, {1: stage})


def write_bundle(dest, stage, tag):
    src = shipped_model_dir()
    loaded = bundle.load_bundle(src)
    manifest = {k: v for k, v in loaded.manifest.items() if k not in ("format_version", "files")}
    manifest["model_id"] = f"kill-test-{tag}"
    extra = {name: open(path, "rb").read() for name, path in loaded.files.items()
             if name not in (bundle.MODEL_FILE, bundle.CARD_FILE)}
    bundle._inference_copy = lambda model: model  # the stand-in is already what would be saved
    if stage == "before-swap":
        _hook_replace({1: stage}, {})
    elif stage == "mid-swap":
        _hook_replace({}, {1: stage})
    elif stage == "after-swap":
        _hook_replace({}, {2: stage})
    bundle.write_bundle(dest, model=_StandInModel(src / bundle.MODEL_FILE, stage), manifest=manifest,
                        card=f"# {tag}\n", extra_files=extra, runtime_files=False)


def write_text(dest, stage, tag):
    _stop_in_atomic_write(stage)
    atomic.atomic_write_text(dest, "\n".join([f"{tag},{i}" for i in range(20000)]) + "\n")


#: the recording every export and review of these tests is about
AUDIO_SHA256 = "5e" * 32


def write_export(dest, stage, tag):
    from ser_engine import EMOTIONS
    from ser_engine.exports import export_timeline
    from ser_engine.results import NO_SPEECH, Segment, Timeline

    probs = {e: 1 / len(EMOTIONS) for e in EMOTIONS}
    segments = [Segment(i * 1.0, i + 1.0, NO_SPEECH if i % 3 == 0 else EMOTIONS[i % len(EMOTIONS)],
                        None if i % 3 == 0 else 0.5, {} if i % 3 == 0 else probs) for i in range(3000)]
    timeline = Timeline(path="/recordings/session 1.wav", duration=3000.0, segments=segments, labels=EMOTIONS,
                        model_id=f"kill-test-{tag}", model_version="1", normalisation="speaker",
                        label=EMOTIONS[1], confidence=0.5, probabilities=probs, sha256=AUDIO_SHA256)
    _stop_in_atomic_write(stage)
    export_timeline(timeline, dest, "csv")


def write_review(dest, stage, tag):
    from ser_engine.review import Interval, Review, save_review

    review = Review(AUDIO_SHA256, f"{tag}.wav", "model", "1",
                    [Interval(i * 2.0, i * 2.0 + 1.0, "calm") for i in range(2000)])
    _stop_in_atomic_write(stage)
    save_review(review, dest)


def main(mode, stage, dest, tag):
    {"bundle": write_bundle, "text": write_text, "export": write_export, "review": write_review}[mode](
        dest, stage, tag)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
