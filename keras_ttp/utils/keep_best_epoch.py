"""`KeepBestEpoch`: the weights of the best validated epoch, kept across a
killed and resumed `fit`."""

import glob
import json
import os

import keras


class KeepBestEpoch(keras.callbacks.Callback):
    """Restores, at the end of `fit`, the weights of the epoch with the best
    `monitor` (higher is better; a tie keeps the earlier epoch). It never
    stops training early.

    Epochs without `monitor` in their logs (those that `fit`'s
    `validation_freq` does not validate) are passed over. With `directory`,
    the best weights (`epoch_<e>.weights.h5`) and their epoch and score
    (`best.json`) are files there, so a `fit` killed and resumed by
    `keras.callbacks.BackupAndRestore` keeps the best of all its epochs, not
    only of those after the resume; list this callback before
    `BackupAndRestore`, so an epoch is kept before it counts as done.
    Without `directory` the weights stay in memory.

    After `fit`, `best_epoch` (counted from 1) and `best` hold the choice,
    `None` when no epoch logged `monitor`.

    Args:
        monitor: the logged metric to maximise.
        directory: optional folder for the best weights.

    Example:
    >>> keep = KeepBestEpoch(directory="runs/finetune/best")
    >>> classifier.fit(train, validation_data=validation, epochs=100,
    ...                validation_freq=4, callbacks=[keep,
    ...                keras.callbacks.BackupAndRestore("runs/finetune/backup")])
    >>> keep.best_epoch, keep.best  # doctest: +SKIP
    """

    def __init__(self, monitor="val_accuracy", directory=None):
        super().__init__()
        self.monitor = monitor
        self.directory = directory
        self.best = None
        self.best_epoch = None
        self._weights = None  # without `directory`: the best epoch's weights

    def _path(self, name):
        return os.path.join(self.directory, name)

    def _weights_name(self):
        return f"epoch_{self.best_epoch:04d}.weights.h5"

    def on_train_begin(self, logs=None):
        if self.directory and os.path.exists(self._path("best.json")):
            with open(self._path("best.json")) as file:
                record = json.load(file)
            self.best, self.best_epoch = record[self.monitor], record["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None or (self.best is not None and current <= self.best):
            return
        self.best, self.best_epoch = float(current), epoch + 1
        if not self.directory:
            self._weights = self.model.get_weights()
            return
        # The weights first, then the record of their epoch: a run killed in
        # between still finds the weights its record names.
        os.makedirs(self.directory, exist_ok=True)
        self.model.save_weights(self._path(self._weights_name()))
        with open(self._path("best.json.tmp"), "w") as file:
            json.dump({"epoch": self.best_epoch, self.monitor: self.best}, file)
        os.replace(self._path("best.json.tmp"), self._path("best.json"))
        for path in glob.glob(self._path("epoch_*.weights.h5")):
            if os.path.basename(path) != self._weights_name():
                os.remove(path)

    def on_train_end(self, logs=None):
        if self.best_epoch is None:
            return
        if self.directory:
            self.model.load_weights(self._path(self._weights_name()))
        else:
            self.model.set_weights(self._weights)
