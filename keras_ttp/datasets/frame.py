"""The one coordinate frame and normalisation that every reader returns.

Frame: y is up, as in ShapeNet and in the community ModelNet files
(`modelnet40_ply_hdf5_2048`, `modelnet40_normal_resampled`). Raw ModelNet
meshes are z up; `z_up_to_y_up` maps them to the frame of the community
files, which swap y and z.

Normalisation: every cloud is centred on its centroid and scaled so that its
farthest point lies at distance 1 (the unit sphere), as PointNet++'s
`pc_normalize` and `keras_ttp.layers.UnitSphereNormalization` do.
"""

import numpy as np

from keras_ttp.datasets.validation import DataFormatError


def normalize_points(points, source="points"):
    """Centres every cloud of `points` (`(N, 3)` or `(S, N, 3)`) on its
    centroid and scales it into the unit sphere; returns float32.

    Example:
    >>> cloud = normalize_points(10 + 5 * np.random.rand(64, 3))
    >>> float(np.abs(cloud.mean(0)).max()) < 1e-6
    True
    >>> float(np.linalg.norm(cloud, axis=-1).max())  # doctest: +ELLIPSIS
    1.0...
    """
    points = np.asarray(points, dtype="float32")
    centred = points - points.mean(axis=-2, keepdims=True)
    radius = np.linalg.norm(centred, axis=-1).max(axis=-1)
    if (radius <= 0).any():
        shape = np.argwhere(np.atleast_1d(radius <= 0))[0, 0]
        raise DataFormatError(
            f"{source}: all points of shape {shape} coincide; it cannot be "
            "scaled into the unit sphere"
        )
    return centred / radius[..., None, None]


def z_up_to_y_up(points):
    """Maps z-up coordinates (raw ModelNet meshes) to the y-up frame of the
    PointNet HDF5 files: `(x, y, z) -> (x, z, y)`.

    Example:
    >>> z_up_to_y_up(np.array([[1.0, 2.0, 3.0]]))
    array([[1., 3., 2.]])
    """
    return np.asarray(points)[..., [0, 2, 1]]
