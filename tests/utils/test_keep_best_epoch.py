import os

import keras
import numpy as np

from keras_ttp.utils import KeepBestEpoch
from tests.test_case import TestCase
from tests.utils.test_epoch_seeds import Kill

SCORES = [0.1, 0.5, 0.3, 0.5, 0.2, 0.4]  # epoch 2 is best; epoch 4 only ties it


class Score(keras.callbacks.Callback):
    """Logs `SCORES[epoch]` as `score` (on the epochs that `every` selects)
    and records the weights at the end of every epoch."""

    def __init__(self, every=1):
        super().__init__()
        self.every = every
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            logs["score"] = SCORES[epoch]
        self.weights[epoch + 1] = self.model.get_weights()


class KeepBestEpochTest(TestCase):
    def fit(self, callbacks, epochs=len(SCORES)):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
        model.fit(x, y, batch_size=4, epochs=epochs, shuffle=False, verbose=0,
                  callbacks=callbacks)  # fmt: skip
        return model

    def test_restores_the_first_best_epoch(self):
        score, keep = Score(), KeepBestEpoch(monitor="score")
        model = self.fit([score, keep])
        self.assertEqual((keep.best_epoch, keep.best), (2, 0.5))
        self.assertAllClose(model.get_weights(), score.weights[2], atol=0, rtol=0)
        self.assertFalse(np.array_equal(model.get_weights()[0], score.weights[6][0]))

    def test_passes_over_epochs_without_the_metric(self):
        score, keep = Score(every=3), KeepBestEpoch(monitor="score")  # epochs 3 and 6
        model = self.fit([score, keep])
        self.assertEqual((keep.best_epoch, keep.best), (6, 0.4))
        self.assertAllClose(model.get_weights(), score.weights[6], atol=0, rtol=0)

    def test_no_metric_leaves_the_weights(self):
        keep = KeepBestEpoch(monitor="score")
        self.fit([keep])
        self.assertIsNone(keep.best_epoch)

    def test_killed_fit_resumes_with_the_best_epoch_before_the_kill(self):
        uninterrupted = Score()
        expected = self.fit([uninterrupted, KeepBestEpoch(monitor="score")]).get_weights()
        best = os.path.join(self.tmp_dir, "best")
        backup = keras.callbacks.BackupAndRestore(os.path.join(self.tmp_dir, "backup"))
        with self.assertRaises(KeyboardInterrupt):
            self.fit([Kill(epoch=3), Score(), KeepBestEpoch("score", best), backup])
        self.assertEqual(sorted(os.listdir(best)), ["best.json", "epoch_0002.weights.h5"])
        # Resumed at epoch 4: its epochs score less than epoch 2, kept on disk.
        keep = KeepBestEpoch("score", best)
        model = self.fit([Score(), keep, backup])
        self.assertEqual((keep.best_epoch, keep.best), (2, 0.5))
        self.assertAllClose(model.get_weights(), expected, atol=0, rtol=0)
        self.assertAllClose(expected, uninterrupted.weights[2], atol=0, rtol=0)
