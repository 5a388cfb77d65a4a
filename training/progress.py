"""Phase, fraction done and time left of a training run, from its progress events.

The estimate is built only from what the run has measured so far: the extraction rate,
the seconds of the epochs already run and the number of epochs the finished models took
(early stopping decides that). Until a first model has finished, the number of epochs is
only bounded by the configured maximum, so the time left is an upper bound and says so.
"""

import time

#: Seconds allowed for calibration, the LiteRT conversion and the report after the final model.
WRITE_SECONDS = 15.0
#: Epochs averaged for the time of one epoch (recent ones: the machine's load changes).
RECENT_EPOCHS = 5


class TrainingEta:
    """Feed every event to :meth:`update`; read :attr:`phase_text`, :meth:`fraction`, :meth:`remaining`."""

    def __init__(self, config, *, clock=time.monotonic):
        self.folds = int(config.get("folds") or 0)
        self.max_epochs = int(config.get("epochs", 60))
        self.patience = int(config.get("patience", 0))
        self.ensemble = int(config.get("ensemble", 1))
        self._clock = clock
        self._t0 = clock()
        self.phase = "scan"
        self.phase_text = "Scanning the folder"
        self._features = None          # (first time seen, first done, phase) of the extraction pass
        self._features_left = 0.0
        self._last_features = (0, 0)
        self._run = None               # (phase, fold, member) of the model being trained
        self._epoch = 0
        self._completed = []           # epochs of each finished model
        self._epoch_seconds = []

    # -- events ---------------------------------------------------------------------------
    def update(self, event):
        phase = event.get("phase")
        now = self._clock()
        if phase in ("features", "encoder"):
            done, total, cached = event["done"], event["total"], event["cached"]
            if self._features is None or self._features[2] != phase:  # a new pass: its own rate
                self._features = (now, done, phase)
            t_first, d_first, _ = self._features
            rate = (done - d_first) / (now - t_first) if now > t_first and done > d_first else None
            self._features_left = (total - done) / rate if rate else 0.0
            self._last_features = (done, total)
            self.phase = "features"
            cache_note = f" ({cached} from the cache)" if cached else ""
            what = "Feature extraction" if phase == "features" else "Encoding speech (pretrained encoder)"
            self.phase_text = f"{what}: {done} of {total}{cache_note}"
        elif phase in ("fold", "final") and "epoch" in event:
            log = event["epoch"]
            key = (phase, event.get("fold"), log.get("member", 0))
            if key != self._run:
                if self._run is not None:
                    self._completed.append(self._epoch)
                self._run = key
            self._epoch = log["epoch"]
            self._epoch_seconds.append(float(log.get("seconds", 0.0)))
            self.phase = phase
            member = f", model {log['member'] + 1} of {self.ensemble}" if self.ensemble > 1 else ""
            if phase == "fold":
                self.phase_text = (f"Fold {event['fold']} of {event['folds']}{member}: epoch {self._epoch}"
                                   f" (at most {self.max_epochs})")
            else:
                self.phase_text = f"Final model{member}: epoch {self._epoch} of about {self._final_epochs()}"
        elif phase == "final":
            if self._run is not None and self._run[0] == "fold":
                self._completed.append(self._epoch)
                self._run, self._epoch = None, 0
            self.phase = "final"
            self.phase_text = "Final model: starting"
        elif phase == "write":
            self.phase, self.phase_text = "write", "Writing the model and the report"
        elif phase in ("done", "finished"):
            self.phase = "done"

    # -- estimates ------------------------------------------------------------------------
    def _epochs_per_model(self):
        return sum(self._completed) / len(self._completed) if self._completed else float(self.max_epochs)

    def _final_epochs(self):
        if not self.folds:
            return self.max_epochs
        # The final model trains the median best epoch of the folds: about patience fewer than they ran.
        return max(1, int(round(self._epochs_per_model() - self.patience)) if self._completed else self.max_epochs)

    def is_upper_bound(self):
        """True while no model has finished, so the epochs per model are only bounded."""
        return not self._completed

    def remaining(self):
        """Estimated seconds left, or None while nothing has been measured yet."""
        if self.phase == "done":
            return 0.0
        if self.phase == "scan":
            return None
        if self.phase == "features":  # training not measured yet: only this phase can be estimated
            return self._features_left if self._features is not None else None
        return self._training_left(self._run)

    def scope(self):
        """What :meth:`remaining` covers: ``"phase"`` (feature extraction) or ``"run"``."""
        return "phase" if self.phase in ("scan", "features") else "run"

    def _training_left(self, run):
        if not self._epoch_seconds:
            return None
        recent = self._epoch_seconds[-RECENT_EPOCHS:]
        per_epoch = sum(recent) / len(recent)
        per_model = self._epochs_per_model()
        if self.phase == "write":
            return WRITE_SECONDS
        fold_models = self.folds * self.ensemble
        if run is not None and run[0] == "fold":
            models_done = len(self._completed)
            left_in_current = max(1.0, per_model - self._epoch)
            fold_left = max(0, fold_models - models_done - 1) * per_model
            final_left = self.ensemble * self._final_epochs()
            epochs = left_in_current + fold_left + final_left
        else:
            final_done = len(self._completed) - fold_models
            epochs = max(1.0, self._final_epochs() - max(self._epoch, 0))
            epochs += max(0, self.ensemble - final_done - 1) * self._final_epochs()
        return epochs * per_epoch + WRITE_SECONDS

    def fraction(self):
        """Share done (0..1) by elapsed time against the estimate: of the extraction while
        it runs, then of the whole run."""
        left = self.remaining()
        if left is None:
            return 0.0
        if self.scope() == "phase":
            done, total = self._last_features
            return done / total if total else 0.0
        elapsed = self._clock() - self._t0
        return min(1.0, elapsed / max(elapsed + left, 1e-9))


def format_duration(seconds):
    """``'4 min 10 s'`` / ``'35 s'``."""
    seconds = int(round(seconds))
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
