"""Reading and writing the vertices of PLY files (ascii and binary)."""

import io
import pathlib

import numpy as np

from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import require_file

PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
BYTE_ORDERS = {"ascii": "<", "binary_little_endian": "<", "binary_big_endian": ">"}


def parse_header(data, path):
    """Returns `(format, elements, body_offset)`; `elements` is a list of
    `(name, count, [(property, type or None for a list)])`."""
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise DataFormatError(f"{path}: not a PLY file (no 'ply' ... 'end_header')")
    body = data.find(b"\n", end) + 1
    lines = data[:end].decode("ascii", "replace").splitlines()
    fmt, elements = None, []
    for line in lines[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                elements.append((words[1], int(words[2]), []))
            elif words[0] == "property" and words[1] == "list":
                elements[-1][2].append((words[4], None))
            elif words[0] == "property":
                elements[-1][2].append((words[2], PLY_TYPES[words[1]]))
            else:
                raise ValueError
        except (IndexError, KeyError, ValueError):
            raise DataFormatError(f"{path}: bad PLY header line {line!r}") from None
    if fmt not in BYTE_ORDERS:
        raise DataFormatError(f"{path}: unknown PLY format {fmt!r}")
    if body == 0:
        raise DataFormatError(f"{path}: truncated PLY header")
    return fmt, elements, body


def read_ply(path):
    """The `(N, 3)` float32 x, y, z of the `vertex` element of a PLY file,
    ascii or binary; other properties and elements are ignored.

    Example:
    >>> points = read_ply("shapenet260/02691156/1a04e3eab45ca15dd86060f189eb133.ply")
    >>> points.shape
    (2048, 3)
    """
    path = require_file(path, "PLY file")
    data = path.read_bytes()
    fmt, elements, offset = parse_header(data, path)
    names = [e[0] for e in elements]
    if "vertex" not in names:
        raise DataFormatError(f"{path}: no 'vertex' element")
    position = names.index("vertex")
    for name, _, properties in elements[: position + 1]:
        if any(dtype is None for _, dtype in properties):
            raise DataFormatError(
                f"{path}: list properties in element {name!r} before or in "
                "'vertex' are not supported"
            )
    _, count, properties = elements[position]
    missing = {"x", "y", "z"} - {p for p, _ in properties}
    if missing:
        raise DataFormatError(f"{path}: 'vertex' has no {sorted(missing)} property")
    if fmt == "ascii":
        table = read_ascii_rows(data[offset:], elements[:position], count, path)
        if table.shape[1] != len(properties):
            raise DataFormatError(
                f"{path}: vertex rows have {table.shape[1]} values, the header "
                f"declares {len(properties)} properties"
            )
        columns = [table[:, [p for p, _ in properties].index(a)] for a in "xyz"]
        return check_points(np.stack(columns, axis=-1), path)
    dtype = np.dtype([(p, BYTE_ORDERS[fmt] + t) for p, t in properties])
    for _, n, skipped in elements[:position]:
        offset += n * np.dtype([(p, t) for p, t in skipped]).itemsize
    available = (len(data) - offset) // dtype.itemsize
    if available < count:
        raise DataFormatError(
            f"{path}: truncated, the header declares {count} vertices but the "
            f"file holds {max(available, 0)}"
        )
    table = np.frombuffer(data, dtype, count, offset)
    points = np.stack([table[a] for a in "xyz"], axis=-1)
    return check_points(points.astype("float64"), path)


def read_ascii_rows(body, skipped_elements, count, path):
    """The `count` rows of an ascii element after `skipped_elements`."""
    lines = body.decode("ascii", "replace").splitlines()
    start = sum(n for _, n, _ in skipped_elements)
    rows = lines[start : start + count]
    if len(rows) < count:
        raise DataFormatError(
            f"{path}: truncated, the header declares {count} vertices but the "
            f"file holds {len(rows)}"
        )
    try:
        return np.loadtxt(rows, dtype="float64", ndmin=2)
    except ValueError as error:
        raise DataFormatError(f"{path}: bad vertex row ({error})") from None


def write_ply(path, points, binary=True):
    """Writes an `(N, 3)` cloud as a PLY file with one `vertex` element of
    float x, y, z (binary little-endian, or ascii with `binary=False`).

    Example:
    >>> write_ply("cloud.ply", np.random.rand(2048, 3))
    >>> read_ply("cloud.ply").shape
    (2048, 3)
    """
    points = np.asarray(points, dtype="<f4")
    fmt = "binary_little_endian" if binary else "ascii"
    header = (
        f"ply\nformat {fmt} 1.0\nelement vertex {len(points)}\n"
        "property float x\nproperty float y\nproperty float z\nend_header\n"
    )
    if binary:
        body = points.tobytes()
    else:
        text = io.StringIO()
        np.savetxt(text, points, fmt="%.8g")
        body = text.getvalue().encode("ascii")
    pathlib.Path(path).write_bytes(header.encode("ascii") + body)
