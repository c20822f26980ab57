"""A built-in synthetic data set that needs no download: procedurally
generated primitive shapes, for quick starts and fast learning tests.

These are not real objects: use them to check that a pipeline runs and
learns, never to report results.
"""

import numpy as np

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.off_mesh import sample_mesh_surface

SYNTHETIC_CLASSES = ["ellipsoid", "box", "cylinder", "cone", "torus", "pyramid"]


def revolve(profile, segments, phase=0.0):
    """Triangle mesh of the surface swept by a profile of `(radius, y)`
    points around the y axis, with `segments` steps (4 gives a square
    cross-section). Returns `(vertices, faces)`."""
    profile = np.asarray(profile, dtype="float64")
    angles = phase + 2 * np.pi * np.arange(segments) / segments
    radius, height = profile[:, :1], profile[:, 1:]
    vertices = np.stack(
        [radius * np.cos(angles), np.repeat(height, segments, 1), radius * np.sin(angles)],
        axis=-1,
    ).reshape(-1, 3)
    ring, step = np.meshgrid(np.arange(len(profile) - 1), np.arange(segments))
    a = ring * segments + step
    b = ring * segments + (step + 1) % segments
    c, d = b + segments, a + segments
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)])
    return vertices, faces.reshape(-1, 3)


def primitive_mesh(name, rng):
    """A mesh of primitive `name` with random proportions, y up."""
    u = rng.uniform
    segments, phase = (4, np.pi / 4) if name in ("box", "pyramid") else (32, 0.0)
    if name == "ellipsoid":
        theta = np.linspace(0, np.pi, 17)
        profile = np.stack([np.sin(theta), np.cos(theta)], -1)
        scale = u(0.5, 1.0, 3)
    elif name in ("box", "cylinder"):
        height = u(0.3, 1.0)
        profile = [[0, -height], [1, -height], [1, height], [0, height]]
        radius = u(0.3, 0.8)
        scale = u(0.3, 1.0, 3) if name == "box" else np.array([radius, 1, radius])
    elif name in ("cone", "pyramid"):
        height = u(0.5, 1.2)
        profile = [[0, -height / 2], [1, -height / 2], [0, height / 2]]
        radius = u(0.4, 1.0)
        depth = u(0.4, 1.0) if name == "pyramid" else radius
        scale = np.array([radius, 1, depth])
    elif name == "torus":
        t = np.linspace(0, 2 * np.pi, 25)
        tube = u(0.15, 0.4)
        profile = np.stack([1 + tube * np.cos(t), tube * np.sin(t)], -1)
        scale = np.ones(3)
    else:
        raise ValueError(f"Unknown primitive {name!r}; known: {SYNTHETIC_CLASSES}")
    vertices, faces = revolve(profile, segments, phase)
    return vertices * scale, faces


def random_rotation(rng, max_tilt):
    """A rotation about y by U(0, 2 pi), then tilts about x and z by
    U(-max_tilt, max_tilt)."""
    yaw, tilt_x, tilt_z = rng.uniform(0, 2 * np.pi), *rng.uniform(-max_tilt, max_tilt, 2)
    c, s = np.cos([yaw, tilt_x, tilt_z]), np.sin([yaw, tilt_x, tilt_z])
    about_y = np.array([[c[0], 0, s[0]], [0, 1, 0], [-s[0], 0, c[0]]])
    about_x = np.array([[1, 0, 0], [0, c[1], -s[1]], [0, s[1], c[1]]])
    about_z = np.array([[c[2], -s[2], 0], [s[2], c[2], 0], [0, 0, 1]])
    return about_z @ about_x @ about_y


def make_synthetic_shapes(
    num_per_class=100, num_points=1024, seed=0, noise=0.01, max_tilt=0.3,
    classes=SYNTHETIC_CLASSES,
):  # fmt: skip
    """Synthetic labelled point clouds of primitive shapes (ellipsoids,
    boxes, cylinders, cones, tori, pyramids): each with random proportions,
    a random pose (any rotation about the vertical y axis, tilted by up to
    `max_tilt` radians), `num_points` points sampled uniformly from its
    surface and Gaussian noise of standard deviation `noise` (in units of
    the unit sphere). Deterministic for a `seed`. Returns a `PointCloudData`
    ordered by class, normalised like every reader's output.

    Example:
    >>> data = make_synthetic_shapes(num_per_class=10, num_points=512, seed=0)
    >>> data.points.shape, data.class_names[:2]
    ((60, 512, 3), ['ellipsoid', 'box'])
    """
    clouds, labels, files = [], [], []
    for label, name in enumerate(classes):
        for index in range(num_per_class):
            rng = np.random.default_rng([seed, SYNTHETIC_CLASSES.index(name), index])
            vertices, faces = primitive_mesh(name, rng)
            cloud = sample_mesh_surface(vertices, faces, num_points, rng)
            cloud = normalize_points(cloud @ random_rotation(rng, max_tilt).T)
            clouds.append(cloud + rng.normal(0, noise, cloud.shape))
            labels.append(label)
            files.append(f"{name}_{index:04d}")
    return PointCloudData(
        points=normalize_points(np.stack(clouds), "synthetic shapes"),
        labels=np.array(labels, "int32"),
        class_names=list(classes),
        files=files,
    )
