"""`EpochSeeds`: random draws that depend only on the epoch, so a resumed
run repeats an uninterrupted one."""

import random

import keras
import numpy as np


class EpochSeeds(keras.callbacks.Callback):
    """Re-seeds every random generator of the model, the global generators
    (`seed_global_generators`: a layer made without a seed draws from
    torch's on torch), and the epoch of a `PointCloudDataset`, from
    `(seed, epoch)` at the start of each epoch.

    Keras's `BackupAndRestore` restores weights and optimizer state but not
    the states of the models' `SeedGenerator`s (augmentation, recycled
    ranks), nor the epoch counter of the data. With this callback every
    random draw of epoch `e` depends only on `seed` and `e`, so a run that
    is killed and resumed at epoch `e` ends with the same weights as one
    that was never interrupted (on the same backend; pass `shuffle=False`
    to `fit`, the dataset shuffles itself).

    Args:
        seed: int, the seed of the run.
        dataset: optional `PointCloudDataset` (anything with `set_epoch`).

    Example:
    >>> data = PointCloudDataset(points, batch_size=32, num_points=1024, seed=0)
    >>> pretrainer.fit(data, epochs=100, shuffle=False, callbacks=[
    ...     keras.callbacks.BackupAndRestore("runs/backup"),
    ...     EpochSeeds(seed=0, dataset=data)])  # doctest: +SKIP
    """

    def __init__(self, seed, dataset=None):
        super().__init__()
        self.seed = int(seed)
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(states):
            state.assign(np.array([self._draw(epoch, index), 0], dtype=state.dtype))
        seed_global_generators(self._draw(epoch, len(states)))
        if self.dataset is not None:
            self.dataset.set_epoch(epoch)

    def _draw(self, epoch, index):
        entropy = np.random.SeedSequence([self.seed, epoch, index])
        return int(entropy.generate_state(1)[0] % 2**31)


def seed_global_generators(seed):
    """`keras.utils.set_random_seed(seed)`, except on tensorflow, where only
    Python's `random` (from which Keras draws the seed of a `SeedGenerator`
    made without one) and NumPy's global generator are seeded: tensorflow
    clears its kernel cache when its global seed is set, so a compiled train
    step would be compiled again at every epoch, each copy kept in memory.
    On torch a layer made without a seed (`Dropout`'s default) draws from
    torch's global generator, which `set_random_seed` seeds.
    """
    if keras.backend.backend() != "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
