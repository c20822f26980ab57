"""The input pipeline: batches of point clouds for `fit` and `predict`."""

import math

import keras
import numpy as np

from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_points


class PointCloudDataset(keras.utils.PyDataset):
    """Batches of float32 point clouds `(batch_size, num_points, 3)` drawn
    from stored clouds `(S, N, 3)`, for `fit`, `evaluate` and `predict` on
    every backend.

    Every epoch the order of the shapes is shuffled (`shuffle=True`) and
    each shape gets a fresh random subset of `num_points` of its `N` stored
    points (`resample=True`; with `resample=False` the first `num_points`
    are taken, for deterministic evaluation). Both draws come from
    generators keyed by `(seed, epoch)` and `(seed, epoch, batch index)`,
    so the batches are the same for a seed whatever the order in which
    Keras asks for them. `on_epoch_end` moves to the next epoch's draws;
    Keras calls it after every epoch and once more when `fit` prepares the
    data, on every backend alike, so `fit` sees the same batches on torch,
    tensorflow and jax.

    Without labels a batch is just `x` (self-supervised pre-training);
    otherwise `(x, y)`. Labels of shape `(S,)` are per shape; labels of
    shape `(S, N)` are per point and follow the resampled points.

    Keras' `fit` also shuffles the order of the batches with Python's
    `random` unless called with `shuffle=False` (or after
    `keras.utils.set_random_seed`).

    Args:
        points: float array `(S, N, 3)`, e.g. `PointCloudData.points`.
        labels: optional labels `(S,)` or per-point labels `(S, N)`.
        batch_size: shapes per batch.
        num_points: points per shape in a batch; `None` keeps all `N`.
        shuffle: shuffle the order of the shapes every epoch.
        resample: draw a new subset of points every epoch.
        drop_last: drop the last, incomplete batch (as ToThePoint does).
        seed: seed of all draws; `None` draws one.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of
            `keras.utils.PyDataset`.

    Example:
    >>> data = make_synthetic_shapes(num_per_class=20, num_points=2048)
    >>> dataset = PointCloudDataset(data.points, batch_size=32, num_points=1024,
    ...                             drop_last=True, seed=0)
    >>> dataset[0].shape
    (32, 1024, 3)
    >>> pretrainer.fit(dataset, epochs=10)  # doctest: +SKIP
    """

    def __init__(
        self, points, labels=None, batch_size=32, num_points=None, shuffle=True,
        resample=True, drop_last=False, seed=None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.points = check_points(points, "PointCloudDataset points", ndim=3)
        num_shapes, stored = self.points.shape[:2]
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != num_shapes:
                raise DataFormatError(
                    f"PointCloudDataset labels: {len(labels)} labels for "
                    f"{num_shapes} shapes"
                )
        self.labels = labels
        self.per_point = labels is not None and labels.shape[:2] == (num_shapes, stored)
        if num_points is not None and not 0 < num_points <= stored:
            raise ValueError(
                f"`num_points` must be in 1..{stored} (the stored points per "
                f"shape), got {num_points}"
            )
        self.num_points = num_points
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.resample = resample and num_points not in (None, stored)
        self.drop_last = drop_last
        self.seed = np.random.SeedSequence().entropy if seed is None else seed
        if len(self) == 0:
            raise ValueError(
                f"{num_shapes} shapes make no batch of {batch_size} with "
                "`drop_last=True`"
            )
        self.epoch = 0
        self.order = self.shape_order()

    def __len__(self):
        num_shapes = len(self.points)
        if self.drop_last:
            return num_shapes // self.batch_size
        return math.ceil(num_shapes / self.batch_size)

    def shape_order(self):
        if not self.shuffle:
            return np.arange(len(self.points))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.points))

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def set_epoch(self, epoch):
        """Moves to the draws of `epoch` (`keras_ttp.utils.EpochSeeds` calls
        this at the start of each epoch, so a resumed run repeats them)."""
        self.epoch = epoch
        self.order = self.shape_order()

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a PointCloudDataset of {len(self)}")
        shapes = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        if self.resample:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            stored = np.arange(self.points.shape[1])
            chosen = rng.permuted(np.broadcast_to(stored, (len(shapes), len(stored))), axis=1)
            chosen = chosen[:, : self.num_points]
        else:
            chosen = np.arange(self.num_points or self.points.shape[1])[None]
        x = self.points[shapes[:, None], chosen]
        if self.labels is None:
            return x
        if self.per_point:
            return x, self.labels[shapes[:, None], chosen]
        return x, self.labels[shapes]
