"""Finding RAVDESS speech files in a folder however it is nested.

RAVDESS names are ``MM-VV-EE-II-SS-RR-AA.ext``: modality (03 audio-only), vocal channel
(01 speech, 02 song), emotion, intensity (01 normal, 02 strong), statement, repetition,
actor (odd male, even female). The user's own download (48 kHz WAV under
``Audio_Speech_Actors_01-24/Actor_NN``), the project's 16 kHz FLAC copy and a flat folder
are all accepted; every file left out is reported with its reason.
"""

import collections
import dataclasses
import os
import re
from pathlib import Path

from ser_engine import EMOTIONS
from ser_engine.audio import AUDIO_EXTENSIONS
from ser_engine.errors import DatasetError

_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_ACTOR_DIR = re.compile(r"^Actor_(\d\d)$", re.IGNORECASE)
INTENSITIES = ("normal", "strong")


@dataclasses.dataclass(frozen=True)
class Item:
    """One RAVDESS speech recording."""

    path: Path
    actor: int
    emotion: str
    intensity: str
    statement: int
    repetition: int

    @property
    def label(self):
        return EMOTIONS.index(self.emotion)

    @property
    def sex(self):
        return "male" if self.actor % 2 else "female"


@dataclasses.dataclass
class Dataset:
    """The usable files of a folder and every file left out, with its reason."""

    root: Path
    items: list
    skipped: list  # of (Path, reason)

    @property
    def actors(self):
        return sorted({it.actor for it in self.items})

    def count_by_actor(self):
        return dict(sorted(collections.Counter(it.actor for it in self.items).items()))

    def count_by_emotion(self):
        counts = collections.Counter(it.emotion for it in self.items)
        return {e: counts.get(e, 0) for e in EMOTIONS}

    def subset(self, actors):
        keep = set(actors)
        return Dataset(self.root, [it for it in self.items if it.actor in keep], [])

    def summary(self):
        return {
            "root": str(self.root),
            "files": len(self.items),
            "actors": self.actors,
            "per_actor": {f"{a:02d}": n for a, n in self.count_by_actor().items()},
            "per_emotion": self.count_by_emotion(),
            "skipped": len(self.skipped),
        }


def parse_name(path):
    """Parse a RAVDESS speech file name.

    Returns
    -------
    (item, None) for a speech file or (None, reason) for anything else.
    """
    path = Path(path)
    m = _NAME.match(path.stem)
    if not m:
        return None, "name is not a RAVDESS name (MM-VV-EE-II-SS-RR-AA)"
    modality, channel, emotion, intensity, statement, repetition, actor = map(int, m.groups())
    if modality != 3:
        return None, f"modality {modality:02d} is not audio-only (03)"
    if channel == 2:
        return None, "song, not speech"
    if channel != 1:
        return None, f"unknown vocal channel {channel:02d}"
    if not 1 <= emotion <= len(EMOTIONS):
        return None, f"unknown emotion code {emotion:02d}"
    if intensity not in (1, 2):
        return None, f"unknown intensity code {intensity:02d}"
    if emotion == 1 and intensity == 2:
        return None, "neutral has no strong intensity in RAVDESS"
    if statement not in (1, 2) or repetition not in (1, 2) or not 1 <= actor <= 24:
        return None, "statement, repetition or actor code out of range"
    return Item(path, actor, EMOTIONS[emotion - 1], INTENSITIES[intensity - 1], statement, repetition), None


def discover(root, *, min_actors=2, require_all_classes=True):
    """Find the RAVDESS speech files under ``root``.

    Parameters
    ----------
    root : str or Path
    min_actors : int
        Fewer actors than this cannot give a speaker-independent evaluation.
    require_all_classes : bool
        Refuse a folder in which an emotion has no file.

    Returns
    -------
    dataset : Dataset

    Raises
    ------
    DatasetError
        The folder is missing, holds no RAVDESS speech, too few actors or misses a class.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    items, skipped, seen = [], [], {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        folder_actor = _ACTOR_DIR.match(Path(dirpath).name)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if not name.lower().endswith(AUDIO_EXTENSIONS):
                skipped.append((path, "not an audio file"))
                continue
            item, reason = parse_name(path)
            if item is None:
                skipped.append((path, reason))
                continue
            if folder_actor and int(folder_actor.group(1)) != item.actor:
                skipped.append((path, f"name says actor {item.actor:02d} but the folder is {Path(dirpath).name}"))
                continue
            if path.stem in seen:
                skipped.append((path, f"duplicate of {seen[path.stem]}"))
                continue
            seen[path.stem] = path
            items.append(item)
    dataset = Dataset(root, items, skipped)
    _check(dataset, min_actors=min_actors, require_all_classes=require_all_classes)
    return dataset


def _check(dataset, *, min_actors, require_all_classes):
    root = dataset.root
    if not dataset.items:
        raise DatasetError(
            f"{root}: no RAVDESS speech files found ({len(dataset.skipped)} other files). Expected names "
            "like 03-01-05-01-02-01-12.wav, e.g. the Audio_Speech_Actors_01-24 folder of the download.")
    if len(dataset.actors) < min_actors:
        raise DatasetError(
            f"{root}: files of {len(dataset.actors)} actor(s) found; at least {min_actors} are needed "
            "so that the model is evaluated on actors it was not trained on.")
    if require_all_classes:
        missing = [e for e, n in dataset.count_by_emotion().items() if n == 0]
        if missing:
            raise DatasetError(f"{root}: no file for {', '.join(missing)}; every one of the "
                               f"{len(EMOTIONS)} emotions is needed.")


def inspect_folder(root):
    """What a training run would use from ``root``, read from file names and audio headers only.

    Files whose header cannot be read are moved to the skipped list here, so the summary
    shown before a run already names them; damage past the header is found (and skipped,
    with its reason) when the features are extracted.

    Returns
    -------
    dataset : Dataset
        Only the files with a readable header.
    info : dict
        :meth:`Dataset.summary` plus ``seconds`` (total duration), ``sample_rates``
        (``{rate: files}``) and ``skipped_files`` (``[{"path", "reason"}]``).

    Raises
    ------
    DatasetError
        As :func:`discover`, also when too little remains after the header check.
    """
    import soundfile as sf

    dataset = discover(root)
    good, skipped, seconds, rates = [], list(dataset.skipped), 0.0, collections.Counter()
    for it in dataset.items:
        try:
            info = sf.info(str(it.path))
            if info.frames <= 0 or info.samplerate <= 0:
                raise RuntimeError("no audio frames")
        except Exception as exc:  # libsndfile's errors are plain RuntimeError/LibsndfileError
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            skipped.append((it.path, f"unreadable audio: {reason}"))
            continue
        good.append(it)
        seconds += info.frames / info.samplerate
        rates[int(info.samplerate)] += 1
    checked = Dataset(dataset.root, good, skipped)
    _check(checked, min_actors=2, require_all_classes=True)
    summary = checked.summary()
    summary.update(seconds=round(seconds, 1), sample_rates=dict(sorted(rates.items())),
                   skipped_files=[{"path": str(p), "reason": r} for p, r in skipped])
    return checked, summary
