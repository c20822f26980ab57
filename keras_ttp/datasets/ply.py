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
    `(name, count, [(property, type)])`, the type a numpy type code, or a
    `(count type, item type)` pair for a list property."""
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
            elif words[0] == "element" and int(words[2]) >= 0:
                elements.append((words[1], int(words[2]), []))
            elif words[0] == "property" and words[1] == "list":
                list_type = (PLY_TYPES[words[2]], PLY_TYPES[words[3]])
                elements[-1][2].append((words[4], list_type))
            elif words[0] == "property":
                elements[-1][2].append((words[2], PLY_TYPES[words[1]]))
            else:
                raise ValueError
        except (IndexError, KeyError, ValueError):
            raise DataFormatError(f"{path}: bad PLY header line {line!r}") from None
        names = [name for name, _ in elements[-1][2]] if elements else []
        if len(set(names)) < len(names):
            raise DataFormatError(f"{path}: repeated PLY property in {line!r}")
    if fmt not in BYTE_ORDERS:
        raise DataFormatError(f"{path}: unknown PLY format {fmt!r}")
    if body == 0:
        raise DataFormatError(f"{path}: truncated PLY header")
    return fmt, elements, body


def read_ply(path):
    """The `(N, 3)` float32 x, y, z of the `vertex` element of a PLY file,
    ascii or binary; other properties and elements are ignored. The body
    must hold exactly the elements the header declares: a file with fewer
    or more vertices (or other rows) than declared is a `DataFormatError`.

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
        if any(isinstance(dtype, tuple) for _, dtype in properties):
            raise DataFormatError(
                f"{path}: list properties in element {name!r} before or in "
                "'vertex' are not supported"
            )
    _, count, properties = elements[position]
    missing = {"x", "y", "z"} - {p for p, _ in properties}
    if missing:
        raise DataFormatError(f"{path}: 'vertex' has no {sorted(missing)} property")
    if fmt == "ascii":
        table = read_ascii_rows(data[offset:], elements, position, path)
        columns = [table[:, [p for p, _ in properties].index(a)] for a in "xyz"]
        return check_points(np.stack(columns, axis=-1), path)
    byte_order = BYTE_ORDERS[fmt]
    dtype = np.dtype([(p, byte_order + t) for p, t in properties])
    for _, n, skipped in elements[:position]:
        offset += n * np.dtype([(p, t) for p, t in skipped]).itemsize
    available = (len(data) - offset) // dtype.itemsize
    if available < count:
        raise DataFormatError(
            f"{path}: truncated, the header declares {count} vertices but the "
            f"file holds {max(available, 0)}"
        )
    table = np.frombuffer(data, dtype, count, offset)
    end = binary_elements_end(
        data, offset + count * dtype.itemsize, elements[position + 1 :], byte_order, path
    )
    if data[end:].strip():  # trailing whitespace is tolerated, data is not
        if position < len(elements) - 1:
            raise DataFormatError(
                f"{path}: {len(data) - end} bytes after the elements the header "
                "declares: more rows than declared?"
            )
        extra = (len(data) - offset) % dtype.itemsize
        raise DataFormatError(
            f"{path}: the header declares {count} vertices but the file holds "
            f"{available}" + (f" and {extra} more bytes" if extra else "")
        )
    points = np.stack([table[a] for a in "xyz"], axis=-1)
    with np.errstate(invalid="ignore"):  # signalling NaNs: refused below
        points = points.astype("float64")
    return check_points(points, path)


def binary_elements_end(data, offset, elements, byte_order, path):
    """The offset where the binary `elements`, starting at `offset`, end;
    raises `DataFormatError` when the file ends before them."""
    for name, count, properties in elements:
        lists = [t for _, t in properties if isinstance(t, tuple)]
        if not lists:
            offset += count * np.dtype([(p, t) for p, t in properties]).itemsize
        elif len(properties) == 1:  # one list per row (faces): walk the counts
            count_type, item_type = (np.dtype(byte_order + t) for t in lists[0])
            for _ in range(count):
                if offset + count_type.itemsize > len(data):
                    offset = len(data) + 1  # the file ends inside the element
                    break
                size = int(np.frombuffer(data, count_type, 1, offset)[0])
                offset += count_type.itemsize + max(size, 0) * item_type.itemsize
        else:
            return len(data)  # rows of several lists: not checked
        if offset > len(data):
            raise DataFormatError(
                f"{path}: truncated, the file ends inside element {name!r}"
            )
    return offset


def read_ascii_rows(body, elements, position, path):
    """The float64 rows of element `position` of an ascii body, after
    checking that the body has exactly as many non-blank lines as the
    header's `elements` declare."""
    lines = body.decode("ascii", "replace").splitlines()
    lines = [line for line in lines if line.strip()]
    start = sum(n for _, n, _ in elements[:position])
    _, count, properties = elements[position]
    declared = sum(n for _, n, _ in elements)
    if len(lines) != declared:
        what = f"{count} vertices"
        if declared != count:
            what = f"{declared} rows ({what} and {declared - count} other rows)"
        raise DataFormatError(
            f"{path}: {'truncated, ' if len(lines) < declared else ''}the header "
            f"declares {what} but the file holds {len(lines)} rows"
        )
    rows = lines[start : start + count]
    table = np.zeros((0, len(properties)))
    try:
        if rows:
            table = np.loadtxt(rows, dtype="float64", comments=None, ndmin=2)
    except ValueError as error:
        raise DataFormatError(f"{path}: bad vertex row ({error})") from None
    if table.shape != (count, len(properties)):
        raise DataFormatError(
            f"{path}: vertex rows have {table.shape[1]} values, the header "
            f"declares {len(properties)} properties"
        )
    return table


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
