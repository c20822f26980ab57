import os

import keras
import numpy as np
import pytest

from keras_ttp import workflows
from keras_ttp.datasets import PointCloudDataset
from keras_ttp.models import PointNet
from keras_ttp.utils import EpochSeeds
from tests.test_case import TestCase
from tests.test_case import random_points


class Kill(keras.callbacks.Callback):
    """Stops a run at the start of `epoch`, as a killed session would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"killed at epoch {epoch}")


class EpochSeedsTest(TestCase):
    def pretrain(self, checkpoint_dir, callbacks=(), **kwargs):
        keras.utils.set_random_seed(0)  # the same initial weights every time
        backbone = PointNet(embedding_dim=32)
        workflows.pretrain_backbone(
            backbone, random_points(24, 96, seed=3), epochs=3, batch_size=8,
            num_points=64, checkpoint_dir=checkpoint_dir, seed=5, verbose=0,
            callbacks=callbacks, **kwargs,
        )  # fmt: skip
        return backbone.get_weights()

    def assertResumesToUninterrupted(self, run):
        """`run(folder, callbacks)`, killed at epoch 1 and run again in the
        same folder, returns what an uninterrupted run returns."""
        uninterrupted = run(os.path.join(self.tmp_dir, "a"))
        resumed_dir = os.path.join(self.tmp_dir, "b")
        with self.assertRaises(KeyboardInterrupt):
            run(resumed_dir, callbacks=[Kill(epoch=1)])
        self.assertTrue(os.listdir(resumed_dir))  # epoch 0 was backed up
        self.assertAllClose(run(resumed_dir), uninterrupted, atol=0, rtol=0)

    def test_killed_run_resumes_to_the_uninterrupted_result(self):
        self.assertResumesToUninterrupted(self.pretrain)

    def test_run_killed_while_backing_up_resumes_from_the_epoch_before(self):
        uninterrupted = self.pretrain(os.path.join(self.tmp_dir, "a"))
        folder = os.path.join(self.tmp_dir, "b")
        with self.assertRaises(KeyboardInterrupt):
            self.pretrain(folder, callbacks=[Kill(epoch=2)])
        latest = os.path.join(folder, "latest.weights.h5")
        with open(latest, "r+b") as f:  # killed while it wrote epoch 1's backup
            f.truncate(os.path.getsize(latest) // 2)
        self.assertAllClose(self.pretrain(folder), uninterrupted, atol=0, rtol=0)

    def fit_with_dropout(self, backup_dir, callbacks=()):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                                  keras.layers.Dropout(0.5), keras.layers.Dense(1)])  # fmt: skip
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(1).normal(size=(16, 4)).astype("float32")
        callbacks = [*callbacks, EpochSeeds(seed=5), keras.callbacks.BackupAndRestore(backup_dir)]
        model.fit(x, x[:, :1], batch_size=4, epochs=3, shuffle=False, verbose=0,
                  callbacks=callbacks)  # fmt: skip
        return model.get_weights()

    def test_unseeded_dropout_resumes_to_the_uninterrupted_result(self):
        # Dropout without a seed: torch draws its masks from the global generator.
        self.assertResumesToUninterrupted(self.fit_with_dropout)

    def test_dataset_set_epoch_matches_counting_epochs(self):
        points = random_points(10, 32)
        counted = PointCloudDataset(points, batch_size=4, num_points=16, seed=1)
        counted.on_epoch_end()
        counted.on_epoch_end()
        direct = PointCloudDataset(points, batch_size=4, num_points=16, seed=1)
        direct.set_epoch(2)
        self.assertAllClose(direct[1], counted[1], atol=0, rtol=0)
        direct.set_epoch(0)
        self.assertFalse(np.array_equal(direct[1], counted[1]))

    @pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tensorflow's own seed")
    def test_tensorflow_global_seed_is_left_alone(self):
        # Setting tensorflow's global seed clears its kernel cache, so XLA
        # would compile the train step again at every epoch (and keep every
        # copy): EpochSeeds must not set it.
        import tensorflow as tf

        callback = EpochSeeds(seed=5)
        callback.set_model(keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5)]))
        tf.random.set_seed(1)
        expected = [tf.random.uniform([4]) for _ in range(2)]
        tf.random.set_seed(1)
        first = tf.random.uniform([4])
        callback.on_epoch_begin(0)
        self.assertAllClose([first, tf.random.uniform([4])], expected, atol=0, rtol=0)
