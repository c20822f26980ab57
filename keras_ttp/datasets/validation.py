"""Checks applied wherever data enters keras-ttp.

Every reader and the input pipeline go through these functions, so bad input
fails early with an error that names the file (or array) and the problem,
never with a silent partial result.
"""

import math
import pathlib
import tokenize
import warnings

import numpy as np


class DataFormatError(ValueError):
    """A data file or array does not have the documented layout or values."""


def check_choice(value, choices, name):
    """Raises `ValueError` unless the argument `name` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}, got {value!r}")


def require_dir(path, what="data directory"):
    """Returns `path` as a `pathlib.Path`; raises `FileNotFoundError` if it is
    not an existing directory."""
    path = pathlib.Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def require_file(path, what="data file"):
    """Returns `path` as a `pathlib.Path`; raises `FileNotFoundError` if it is
    not an existing file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def read_list_file(path, what="list file"):
    """Non-empty, stripped lines of a text file (a split list, a class
    table); raises `DataFormatError` when it has none.

    Example:
    >>> read_list_file("modelnet10_ply_hdf5_2048/shape_names.txt")[:2]
    ['bathtub', 'bed']
    """
    path = require_file(path, what)
    try:
        text = path.read_text()
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: {what} is not text ({error})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataFormatError(f"{path}: {what} is empty")
    return lines


def check_points(points, source, ndim=None):
    """Returns `points` as float32 after checking its shape `(..., 3)` (one
    cloud `(N, 3)` or a batch `(S, N, 3)`; `ndim` demands one of them), its
    floating-point dtype and that every coordinate is finite. `source` names
    the file or array in errors.

    Example:
    >>> check_points(np.zeros((2, 16, 3)), "my array").dtype
    dtype('float32')
    """
    points = np.asarray(points)
    if (
        points.ndim not in ((2, 3) if ndim is None else (ndim,))
        or points.shape[-1] != 3
        or points.shape[-2] == 0
    ):
        raise DataFormatError(
            f"{source}: expected points of shape (num_points, 3) or "
            f"(num_shapes, num_points, 3), got shape {points.shape}"
        )
    if not np.issubdtype(points.dtype, np.floating):
        raise DataFormatError(
            f"{source}: expected floating-point coordinates, got dtype "
            f"{points.dtype}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        points = points.astype("float32", copy=False)
    # Checked as float32, so that float64 values beyond its range count.
    finite = np.isfinite(points).all(axis=-1)
    if not finite.all():
        first = np.argwhere(~finite)[0]
        where = f"point {first[-1]}"
        if points.ndim == 3:
            where = f"shape {first[0]}, {where}"
        raise DataFormatError(
            f"{source}: {int((~finite).sum())} points have NaN or infinite "
            f"coordinates, or ones beyond float32's range (first at {where})"
        )
    return points


def check_labels(labels, num_classes, source, table="the class table", num_shapes=None):
    """Returns integer `labels` as int32 after checking that they are whole
    numbers in `[0, num_classes)`. Float arrays holding whole numbers (the
    ShapeNetPart txt files) are accepted. With `num_shapes`, the labels are
    one per shape (`(n,)` or `(n, 1)`, returned flat) and must number
    `num_shapes`.

    Example:
    >>> check_labels(np.array([[0], [3]], "uint8"), 10, "x.h5", num_shapes=2)
    array([0, 3], dtype=int32)
    """
    labels = np.asarray(labels)
    if num_shapes is not None:
        labels = labels.reshape(-1)
        check_num_rows(labels, num_shapes, source, "labels")
    if np.issubdtype(labels.dtype, np.floating):
        if not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
            raise DataFormatError(f"{source}: labels are not whole numbers")
    elif not np.issubdtype(labels.dtype, np.integer):
        raise DataFormatError(
            f"{source}: expected integer labels, got dtype {labels.dtype}"
        )
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise DataFormatError(
            f"{source}: label {labels[outside].flat[0]} is outside {table} "
            f"(valid labels: 0 to {num_classes - 1})"
        )
    return labels.astype("int32")


def check_num_rows(array, expected, source, what):
    """Raises `DataFormatError` unless `len(array) == expected`."""
    if len(array) != expected:
        raise DataFormatError(
            f"{source}: {len(array)} {what} for {expected} shapes"
        )


def read_text_table(path, num_columns, delimiter=None, max_rows=None):
    """The float32 rows of a text file of numbers with `num_columns` values
    per line (the `.txt` layouts), at most `max_rows` of them.

    Example:
    >>> read_text_table("bathtub/bathtub_0030.txt", 6, ",", max_rows=4).shape
    (4, 6)
    """
    path = require_file(path, "text file")
    try:
        with warnings.catch_warnings():  # an empty file is reported below
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(
                path, dtype="float32", delimiter=delimiter, max_rows=max_rows, ndmin=2
            )
    except ValueError as error:
        raise DataFormatError(f"{path}: bad line ({error})") from None
    if table.shape[0] == 0:
        raise DataFormatError(f"{path}: no points")
    if table.shape[1] != num_columns:
        raise DataFormatError(
            f"{path}: {table.shape[1]} values per line, expected {num_columns}"
        )
    return table


def read_npy(path):
    """The array of a `.npy` file (no pickles). The file must hold exactly
    the bytes its header declares: a truncated or padded file is a
    `DataFormatError`, raised before any memory is allocated for it.

    Example:
    >>> read_npy("modelnet40_c/label.npy").shape
    (2468, 1)
    """
    path = require_file(path, ".npy file")
    try:
        with open(path, "rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(file)
            body = path.stat().st_size - file.tell()
        if dtype.hasobject:
            raise DataFormatError(
                f"{path}: cannot read .npy file, it holds Python objects "
                f"(dtype {dtype}), which are not read (no pickles)"
            )
        declared = math.prod(shape) * dtype.itemsize
        if declared != body:
            raise DataFormatError(
                f"{path}: cannot read .npy file, "
                f"{'truncated' if body < declared else 'longer than declared'}: "
                f"the header declares shape {shape} of {dtype} ({declared} "
                f"bytes) but the file holds {body} bytes"
            )
        return np.load(path, allow_pickle=False)
    except DataFormatError:
        raise
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as error:
        # numpy parses the header with `ast` and `tokenize`.
        raise DataFormatError(
            f"{path}: cannot read .npy file, truncated or corrupted? ({error})"
        ) from None
