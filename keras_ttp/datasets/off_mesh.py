"""Raw ModelNet meshes (`.off`) and area-weighted surface sampling."""

import hashlib
import os
import pathlib

import numpy as np

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.containers import shape_rng
from keras_ttp.datasets.download import default_cache_dir
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.frame import z_up_to_y_up
from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_choice
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import require_file

# Bump when the sampler or the files' interpretation changes: it keys the cache.
SAMPLER_VERSION = 1


def read_off(path):
    """Vertices `(V, 3)` float64 and triangles `(F, 3)` int64 of an OFF mesh.

    Accepts the header variants found in ModelNet: `OFF` alone on the first
    line or fused with the counts (`OFF1568 1820 0`), `#` comments and blank
    lines. Polygons with more than three vertices are split into triangle
    fans; values after a face's indices (colours) are ignored.

    Example:
    >>> vertices, faces = read_off("ModelNet10/chair/test/chair_0890.off")
    >>> vertices.shape, faces.shape
    ((1658, 3), (2996, 3))
    """
    path = require_file(path, "OFF file")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: not a text OFF file") from None
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith("OFF"):
        raise DataFormatError(f"{path}: not an OFF file (no 'OFF' header)")
    counts = lines[0][3:].strip()
    start = 1 if counts else 2
    try:
        num_vertices, num_faces = (int(c) for c in (counts or lines[1]).split()[:2])
    except (IndexError, ValueError):
        raise DataFormatError(f"{path}: bad OFF counts line") from None
    if num_vertices < 1 or num_faces < 0:
        raise DataFormatError(
            f"{path}: bad OFF counts line, {num_vertices} vertices and "
            f"{num_faces} faces"
        )
    body = lines[start:]
    if len(body) < num_vertices + num_faces:
        raise DataFormatError(
            f"{path}: truncated, the header declares {num_vertices} vertices "
            f"and {num_faces} faces but the file has {len(body)} lines for them"
        )
    if num_faces == 0:
        raise DataFormatError(f"{path}: the mesh has no faces")
    vertices = parse_rows(body[:num_vertices], path, "vertex")
    faces = parse_faces(body[num_vertices : num_vertices + num_faces], path)
    bad = (faces < 0) | (faces >= num_vertices)
    if bad.any():
        raise DataFormatError(
            f"{path}: face {np.argwhere(bad)[0, 0]} refers to vertex "
            f"{faces[bad][0]}, outside 0..{num_vertices - 1}"
        )
    check_points(vertices, path)
    return vertices, faces


def parse_rows(lines, path, what):
    """The first three numbers of every line, as floats."""
    try:
        try:  # the common case: the same number of values on every line
            table = np.loadtxt(lines, dtype="float64", ndmin=2)
        except ValueError:  # lines of different lengths: their first three
            table = np.array([line.split()[:3] for line in lines], dtype="float64")
    except ValueError:
        table = None
    if table is None or table.ndim != 2 or table.shape[1] < 3:
        raise DataFormatError(f"{path}: a {what} line has no three numbers")
    return table[:, :3]


def parse_faces(lines, path):
    """Triangles of the face lines `n i_1 ... i_n [colour]`, fanned."""
    try:  # the common case: polygons of one size, no colours
        table = np.loadtxt(lines, dtype="int64", ndmin=2)
        if table.shape[1] > 3 and (table[:, 0] == table.shape[1] - 1).all():
            return fan(table[:, 1:])
    except ValueError:
        pass
    triangles = []
    for number, line in enumerate(lines):
        values = line.split()
        try:
            size = int(values[0])
            indices = np.array(values[1 : 1 + size], dtype="int64")
        except ValueError:
            raise DataFormatError(f"{path}: bad face line {line!r}") from None
        if size < 3 or len(indices) < size:
            raise DataFormatError(
                f"{path}: face {number} has {len(indices)} of its {size} "
                "vertex indices (a face needs at least 3)"
            )
        triangles.append(fan(indices[None]))
    return np.concatenate(triangles)


def fan(polygons):
    """Triangles `(v0, vi, vi+1)` of polygons `(F, k)`, `k >= 3`."""
    k = polygons.shape[1]
    return np.concatenate([polygons[:, [0, i, i + 1]] for i in range(1, k - 1)])


def sample_mesh_surface(vertices, faces, num_points, seed=None):
    """`num_points` points drawn uniformly from the surface of a triangle
    mesh: a triangle with probability proportional to its area, then a
    uniform point in it. Returns float64 `(num_points, 3)` in the mesh's
    coordinates.

    Example:
    >>> square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    >>> points = sample_mesh_surface(square, np.array([[0, 1, 2], [0, 2, 3]]), 1000, seed=0)
    >>> points.shape
    (1000, 3)
    """
    corners = np.asarray(vertices, dtype="float64")[np.asarray(faces)]
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    areas = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=-1)
    total = areas.sum()
    if not total > 0:
        raise DataFormatError("the mesh has no surface area to sample")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(areas), num_points, p=areas / total)
    u, v = rng.random((2, num_points, 1))
    outside = u + v > 1
    u, v = np.where(outside, 1 - u, u), np.where(outside, 1 - v, v)
    a, b, c = a[chosen], b[chosen], c[chosen]
    return a + u * (b - a) + v * (c - a)


def sample_off(path, num_points, seed=None):
    """`sample_mesh_surface` of the mesh in an OFF file, in its own frame."""
    vertices, faces = read_off(path)
    try:
        return sample_mesh_surface(vertices, faces, num_points, seed)
    except DataFormatError as error:
        raise DataFormatError(f"{path}: {error}") from None


def load_modelnet_off(
    data_dir=None, split="train", num_points=1024, seed=0, normalize=True,
    cache_dir=None, use_cache=True,
):  # fmt: skip
    """Raw ModelNet (`<data_dir>/<class>/<split>/<class>_NNNN.off`, z up),
    each mesh sampled to `num_points` points by `sample_mesh_surface` with a
    generator keyed by `seed` and the file name, then turned y up
    (`z_up_to_y_up`, the frame of the PointNet HDF5 files).

    The classes are the class folders, in sorted order. Sampling is slow, so
    the result is cached in `<cache_dir>/keras_ttp/off_samples/` (default
    cache: see `keras_ttp.datasets.download`), keyed by the files' names,
    sizes and modification times and the arguments: a second load only
    reads one `.npz` file. Returns a `PointCloudData`.

    Example:
    >>> data = load_modelnet_off("ModelNet10", "test", num_points=1024)
    >>> data.points.shape
    (908, 1024, 3)
    """
    check_choice(split, ("train", "test"), "split")
    data_dir = get_dataset_dir("ModelNet40", data_dir)
    class_names = sorted(p.name for p in data_dir.iterdir() if p.is_dir())
    if not class_names:
        raise DataFormatError(f"{data_dir}: no <class>/ folders")
    paths, labels = [], []
    for label, name in enumerate(class_names):
        split_dir = data_dir / name / split
        if not split_dir.is_dir():
            raise FileNotFoundError(f"split folder not found: {split_dir}")
        found = sorted(split_dir.glob("*.off"))
        paths += found
        labels += [label] * len(found)
    if not paths:
        raise DataFormatError(f"{data_dir}: no .off files in */{split}/")
    files = [str(p.relative_to(data_dir)) for p in paths]
    cache = None
    if use_cache:
        key = hashlib.sha256(
            repr((SAMPLER_VERSION, num_points, seed, normalize, files)).encode()
        )
        for path in paths:
            stat = path.stat()
            key.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        cache = pathlib.Path(cache_dir or default_cache_dir()).expanduser()
        cache = cache / "keras_ttp" / "off_samples"
        cache = cache / f"{data_dir.name}_{split}_{key.hexdigest()[:20]}.npz"
        if cache.exists():
            with np.load(cache) as cached:
                points = cached["points"]
            return PointCloudData(points, np.array(labels, "int32"), class_names, files)
    points = np.stack(
        [sample_off(p, num_points, shape_rng(seed, f)) for p, f in zip(paths, files)]
    )
    points = z_up_to_y_up(points).astype("float32")
    if normalize:
        points = normalize_points(points, data_dir)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, points=points)
        os.replace(partial, cache)
    return PointCloudData(points, np.array(labels, "int32"), class_names, files)
