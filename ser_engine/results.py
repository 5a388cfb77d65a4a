"""Typed results of an analysis, and their JSON form (the CLI's ``--json`` schema)."""

import dataclasses

import numpy as np

#: The label of a stretch without speech (silence, pauses, background): never an emotion.
NO_SPEECH = "no speech"
#: Recordings longer than this (seconds) are sessions: the desktop summarises them by their
#: share of speech time per emotion, and a speaker group analyses them alone (their own baseline).
LONG_RECORDING_S = 30.0
#: The "uncertain" threshold of a bundle whose manifest names none, and of a model not at hand.
UNCERTAIN_BELOW = 0.4


@dataclasses.dataclass
class Segment:
    """A stretch of a recording with one label. Times in seconds.

    ``label`` is an emotion or :data:`NO_SPEECH`; a no-speech segment has ``confidence``
    None and no ``probabilities``. ``uncertain`` is True when the confidence is below the
    bundle's threshold or its speech is less than ``SNR_UNCERTAIN_DB`` above the noise around
    it (``snr_db``, None when it cannot be measured). ``speaker`` is the index of its speaker
    (0 for S1) when the recording's speakers were found, else None.
    """

    start: float
    end: float
    label: str
    confidence: float | None
    probabilities: dict
    uncertain: bool = False
    speaker: int | None = None
    snr_db: float | None = None

    @property
    def is_speech(self):
        return self.label != NO_SPEECH

    @property
    def duration(self):
        return self.end - self.start

    def to_dict(self, *, probabilities=False, full=False):
        """JSON form; ``full`` adds ``uncertain`` and the probabilities (the timeline schema)."""
        conf = None if self.confidence is None else round(self.confidence, 4)
        d = {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label, "confidence": conf}
        if full:
            d["uncertain"] = bool(self.uncertain)
        if probabilities or full:
            d["probabilities"] = {k: round(v, 4) for k, v in (self.probabilities or {}).items()}
        if self.speaker is not None:
            d["speaker"] = speaker_name(self.speaker)
        if full and self.is_speech:
            d["snr_db"] = None if self.snr_db is None else round(self.snr_db, 1)
        return d

    @classmethod
    def from_dict(cls, d):
        speaker = d.get("speaker")
        return cls(float(d["start"]), float(d["end"]), d["label"], d.get("confidence"),
                   dict(d.get("probabilities") or {}), bool(d.get("uncertain", False)),
                   None if speaker is None else speaker_index(speaker), d.get("snr_db"))


def segment_at(segments, seconds):
    """The index of the segment of ``segments`` (in time order, not overlapping) that holds
    ``seconds``, or -1."""
    import bisect

    i = bisect.bisect_right([s.start for s in segments], seconds) - 1
    return i if 0 <= i < len(segments) and seconds < segments[i].end else -1


def is_session(recording):
    """Whether a recording (anything with a ``duration`` in seconds) is a session: longer than
    one utterance (:data:`LONG_RECORDING_S`)."""
    return float(getattr(recording, "duration", 0.0) or 0.0) > LONG_RECORDING_S


def speaker_name(index):
    """``0`` -> ``"S1"``: speakers are numbered from 1, by first appearance."""
    return f"S{index + 1}"


def speaker_index(name):
    """``"S1"`` -> ``0``: the index of a speaker written by :func:`speaker_name`."""
    return int(str(name).lstrip("S")) - 1


def speaker_title(name, index):
    """How a speaker is named on screen and in reports: ``"Mrs A (S2)"`` for one the user named,
    ``"S2"`` otherwise (``name``: the user's name, or the default)."""
    return name if name == speaker_name(index) else f"{name} ({speaker_name(index)})"


@dataclasses.dataclass(frozen=True)
class Normalisation:
    """How a recording's features were normalised, and from what.

    Attributes
    ----------
    mode : str
        ``"global"`` (the training data's statistics) or ``"speaker"`` (a speaker baseline).
    source : str
        Where the statistics came from, in words: "training data", "this recording", "folder
        NAME (N files)", "reference NAME" (with its time span when a stretch was chosen).
    speech_seconds : float or None
        Speech the speaker baseline was computed from (None for global statistics).
    note : str or None
        Why a speaker baseline that was asked for was not used (too little speech), or why the
        automatic choice fell on global statistics; None otherwise.
    speaker : int or None
        The speaker (index) whose speech it was made from, in a recording with speaker turns.
    """

    mode: str
    source: str
    speech_seconds: float | None = None
    note: str | None = None
    speaker: int | None = None

    def describe(self, label_of=None) -> str:
        """One line for a panel, a report or an export. ``label_of``: index -> the name the
        user gave a speaker, so a renamed speaker is called by that name (with its number)."""
        if self.mode == "global":
            text = "global statistics (training data)"
        else:
            text = f"speaker baseline from {self.source}"
            if self.speech_seconds is not None:
                text += f" ({self.speech_seconds:.0f} s of speech)"
        text += f"; {self.note}" if self.note else ""
        if self.speaker is not None and label_of is not None:
            title = speaker_title(label_of(self.speaker), self.speaker)
            text = text.replace(f"{speaker_name(self.speaker)}'s speech", f"{title}'s speech")
        return text

    def to_dict(self) -> dict:
        d = {"mode": self.mode, "source": self.source,
             "speech_seconds": None if self.speech_seconds is None else round(self.speech_seconds, 1)}
        if self.note:
            d["note"] = self.note
        if self.speaker is not None:
            d["speaker"] = speaker_name(self.speaker)
        return d

    @classmethod
    def from_dict(cls, d) -> "Normalisation":
        if isinstance(d, str):  # written before the source was recorded
            return cls(d, "training data" if d == "global" else "unknown (older result)")
        speaker = d.get("speaker")
        return cls(d["mode"], d.get("source", ""), d.get("speech_seconds"), d.get("note"),
                   None if speaker is None else speaker_index(speaker))


GLOBAL = Normalisation("global", "training data")

#: Whose mix of emotions a result's probabilities assume (``emotion_mix``): the recording's own,
#: estimated from its speech (:meth:`ser_engine.labelling.Labeller.adapt_mix`), or the training
#: data's (nearly even) when it holds too little speech or too little evidence, or the user asked for it.
MIX_RECORDING = "recording"
MIX_TRAINING = "training"


def describe_mix(mix: str | None) -> str:
    """Whose mix of emotions a result assumes, in words ("" for none: no speech)."""
    if mix == MIX_RECORDING:
        return "emotion mix estimated from this recording"
    if mix == MIX_TRAINING:
        return "emotion mix of the training data (nearly even)"
    return ""


@dataclasses.dataclass
class SpeakerResult:
    """One speaker of a recording whose speakers were found: how much they spoke, their own
    answer (each emotion's share of *their* speech time) and their normalisation."""

    index: int
    speaking_seconds: float
    turns: int
    label: str
    confidence: float | None
    probabilities: dict
    uncertain: bool
    normalisation: Normalisation
    emotion_mix: str = MIX_TRAINING

    @property
    def name(self):
        return speaker_name(self.index)

    def summary(self, labels, duration):
        """This speaker's answer as time (:class:`~ser_engine.summary.Summary`)."""
        from .summary import answer_summary

        return answer_summary(self.probabilities, labels, speech_seconds=self.speaking_seconds, duration=duration)

    def to_dict(self):
        return {"speaker": self.name, "speaking_seconds": round(self.speaking_seconds, 3), "turns": self.turns,
                "label": self.label, "confidence": None if self.confidence is None else round(self.confidence, 4),
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "uncertain": bool(self.uncertain), "normalisation": self.normalisation.to_dict(),
                "emotion_mix": self.emotion_mix}

    @classmethod
    def from_dict(cls, d):
        return cls(speaker_index(d["speaker"]), float(d["speaking_seconds"]), int(d["turns"]), d["label"],
                   d.get("confidence"), dict(d.get("probabilities") or {}), bool(d.get("uncertain", False)),
                   Normalisation.from_dict(d.get("normalisation", "global")), d.get("emotion_mix", MIX_TRAINING))


@dataclasses.dataclass
class Failure:
    """A recording that could not be analysed, with the reason (one line)."""

    path: str
    error: str
    ok = False

    def to_dict(self, **_):
        return {"path": self.path, "error": self.error}


@dataclasses.dataclass
class Timeline:
    """The analysis of a recording, short or long: labelled segments covering it end to end
    and its one answer (:mod:`ser_engine.labelling`).

    Attributes
    ----------
    segments : list of Segment
        In time order, contiguous from 0 to ``duration``; emotions and :data:`NO_SPEECH`.
    label, confidence, probabilities, uncertain
        The recording's answer: ``probabilities`` is each emotion's estimated share of the
        speech time (it sums to 1), ``label`` the largest and ``confidence`` its share;
        "no speech" (confidence None) for a recording without speech.
    normalisation : Normalisation
    sha256 : str or None
        Hash of the file's bytes (the key of its clinician review).
    snr_db : float or None
        How far (dB) the recording's speech lies above the noise around it; below
        ``ser_engine.vad.SNR_UNCERTAIN_DB`` its answer is marked uncertain.
    band_db : float or None
        How much of the speech's band the channel kept: its power above 4 kHz against
        0.3-3.4 kHz (dB; :func:`ser_engine.channel.band_ratio_db`). Narrow-band speech (a
        telephone line) labelled without a speaker baseline is marked uncertain, its segments too.
    emotion_mix : str or None
        :data:`MIX_RECORDING` when the probabilities were moved to the recording's own mix of
        emotions (with speaker turns: at least one speaker's were, each speaker's result says
        whose), :data:`MIX_TRAINING` when they assume the training data's; None without speech.
    speakers : list of SpeakerResult
        When the recording's speakers were found: each speaker's speaking time, turns,
        answer and normalisation, in order of first appearance (empty otherwise).
    overview : ser_engine.stream.Overview or None
        Decimated waveform and log-mel for display (not serialised).
    """

    path: str
    duration: float
    segments: list
    labels: tuple
    model_id: str
    model_version: str
    normalisation: Normalisation
    label: str | None = None
    confidence: float | None = None
    probabilities: dict = dataclasses.field(default_factory=dict)
    uncertain: bool = False
    sha256: str | None = None
    speakers: list = dataclasses.field(default_factory=list)
    snr_db: float | None = None
    band_db: float | None = None
    emotion_mix: str | None = None
    overview: object = dataclasses.field(default=None, repr=False, compare=False)
    #: the whole recording's :func:`~ser_engine.labelling.mix_evidence` (None: too little speech,
    #: or speaker turns); for diagnostics and the benchmarks, not serialised
    mix_evidence: float | None = dataclasses.field(default=None, repr=False, compare=False)
    mix_speech_seconds: float | None = dataclasses.field(default=None, repr=False, compare=False)
    ok = True

    def speaker_result(self, index):
        """The :class:`SpeakerResult` of speaker ``index`` (None: no such speaker, or speakers
        were not found)."""
        return next((sp for sp in self.speakers if sp.index == index), None)

    def summary(self):
        """The recording's answer as time: each emotion's share of the speech time and its
        seconds, and the no-speech time (:class:`~ser_engine.summary.Summary`)."""
        from .summary import answer_summary

        speech = sum(s.duration for s in self.segments if s.is_speech)
        return answer_summary(self.probabilities, self.labels, speech_seconds=speech, duration=self.duration)

    def to_dict(self, *, segments=True):
        return {
            "path": self.path,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "uncertain": bool(self.uncertain),
            "snr_db": None if self.snr_db is None else round(self.snr_db, 1),
            "band_db": None if self.band_db is None else round(self.band_db, 1),
            "duration": round(self.duration, 3),
            "sha256": self.sha256,
            "model": {"id": self.model_id, "version": self.model_version},
            "normalisation": self.normalisation.to_dict(),
            "emotion_mix": self.emotion_mix,
            "labels": list(self.labels),
            "summary": self.summary().to_dict(),
            **({"speakers": [{**sp.to_dict(), "summary": sp.summary(self.labels, self.duration).to_dict()}
                             for sp in self.speakers]} if self.speakers else {}),
            "segments": [s.to_dict(full=True) for s in self.segments] if segments else [],
        }

    @classmethod
    def from_dict(cls, d):
        return cls(path=d["path"], duration=float(d["duration"]),
                   segments=[Segment.from_dict(s) for s in d.get("segments", [])], labels=tuple(d["labels"]),
                   model_id=d["model"]["id"], model_version=d["model"]["version"],
                   normalisation=Normalisation.from_dict(d.get("normalisation", "speaker")), label=d.get("label"),
                   confidence=d.get("confidence"), probabilities=dict(d.get("probabilities") or {}),
                   uncertain=bool(d.get("uncertain", False)), sha256=d.get("sha256"),
                   speakers=[SpeakerResult.from_dict(x) for x in d.get("speakers", [])], snr_db=d.get("snr_db"),
                   band_db=d.get("band_db"), emotion_mix=d.get("emotion_mix"))


def probs_dict(labels, probs):
    return {lab: float(p) for lab, p in zip(labels, np.asarray(probs, float), strict=True)}
