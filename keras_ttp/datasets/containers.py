"""What the readers return, and how per-file clouds become one array."""

import dataclasses
import zlib

import numpy as np

from keras_ttp.datasets.validation import DataFormatError


@dataclasses.dataclass
class PointCloudData:
    """Labelled point clouds, as every classification reader returns them.

    Attributes:
        points: float32 `(num_shapes, num_points, 3)`, y up, each cloud
            centred and in the unit sphere unless a reader was called with
            `normalize=False`.
        labels: int32 `(num_shapes,)`, indices into `class_names`.
        class_names: the class table, a list of str.
        files: where each shape comes from (a file, or `file[row]`).

    Example:
    >>> data = make_synthetic_shapes(num_per_class=2, num_points=256)
    >>> data.points.shape, data.labels[:3], data.class_names[0]
    ((12, 256, 3), array([0, 0, 1], dtype=int32), 'ellipsoid')
    """

    points: np.ndarray
    labels: np.ndarray
    class_names: list
    files: list

    def __len__(self):
        return len(self.points)


@dataclasses.dataclass
class PartSegmentationData(PointCloudData):
    """Point clouds with per-point part labels (ShapeNetPart).

    Attributes:
        part_labels: int32 `(num_shapes, num_points)`, global part ids
            (0 to 49 for ShapeNetPart); `SHAPENETPART_PARTS` maps each
            category to its ids.
        labels, class_names: the object category of each shape.
    """

    part_labels: np.ndarray = None


def shape_rng(seed, name):
    """A generator for one shape, keyed by its name rather than its position,
    so a shape's sample does not depend on which other files are present."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def choose_points(num_available, num_points, rng):
    """Indices of `num_points` of `num_available` points: all of them in
    order when the numbers agree, else a random subset, or every point once
    plus random repeats when there are too few."""
    if num_available == num_points:
        return np.arange(num_points)
    if num_available > num_points:
        return rng.choice(num_available, num_points, replace=False)
    repeats = rng.choice(num_available, num_points - num_available)
    return rng.permutation(np.concatenate([np.arange(num_available), repeats]))


def stack_clouds(clouds, names, num_points=None, seed=0, point_labels=None):
    """Stacks per-file clouds `(N_i, 3)` into `(S, num_points, 3)`.

    With `num_points=None` every cloud must have the same number of points.
    Otherwise each cloud is subsampled (or padded with repeated points) with
    a generator keyed by `seed` and the shape's name. `point_labels`, one
    array per cloud, follow the same indices. Returns `(points,
    point_labels)`.
    """
    if num_points is None:
        sizes = [len(c) for c in clouds]
        if len(set(sizes)) > 1:
            odd = next(i for i, s in enumerate(sizes) if s != sizes[0])
            raise DataFormatError(
                f"{names[odd]}: has {sizes[odd]} points where {names[0]} has "
                f"{sizes[0]}; pass `num_points` to resample every shape to "
                "one size"
            )
        indices = [slice(None)] * len(clouds)
    else:
        indices = [
            choose_points(len(c), num_points, shape_rng(seed, n))
            for c, n in zip(clouds, names)
        ]
    points = np.stack([c[i] for c, i in zip(clouds, indices)])
    if point_labels is not None:
        point_labels = np.stack([p[i] for p, i in zip(point_labels, indices)])
    return points, point_labels
