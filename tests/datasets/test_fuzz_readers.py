"""Seeded fuzzing of every file reader: truncations, byte flips and header
edits of a valid file. Each case must end in a load that passes the
reader's checks or in a `DataFormatError` naming the file, never in
another exception."""

import pathlib
import re

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import read_off
from keras_ttp.datasets import read_ply
from keras_ttp.datasets import write_ply
from keras_ttp.datasets.hdf5 import read_h5
from keras_ttp.datasets.validation import read_npy
from keras_ttp.datasets.validation import read_text_table
from tests.datasets.layouts import clouds
from tests.datasets.layouts import write_h5
from tests.test_case import TestCase

CASES = 200  # per reader and kind of damage
TOKENS = [
    "0", "1", "-1", "3", "4", "5", "99", "100", "101", "4294967296", "1e3", "nan",
    "x", "y", "z", "vertex", "face", "float", "double", "uchar", "int", "list",
    "ascii", "binary_little_endian", "binary_big_endian", "OFF", "ply", "", "\t",
]  # fmt: skip


def truncate(data, rng):
    return data[: rng.integers(0, len(data))]


def flip_bytes(data, rng):
    data = bytearray(data)
    for position in rng.integers(0, len(data), rng.integers(1, 5)):
        data[position] ^= int(rng.integers(1, 256))
    return bytes(data)


def edit_lines(lines, rng, extra_lines=()):
    """One edit of a list of text lines: delete, duplicate, swap, insert,
    or replace a word by a token."""
    lines = list(lines)
    i = int(rng.integers(0, len(lines)))
    edit = rng.integers(0, 5)
    if edit == 0:
        del lines[i]
    elif edit == 1:
        lines.insert(i, lines[i])
    elif edit == 2 and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif edit == 3 and extra_lines:
        lines.insert(i, extra_lines[rng.integers(0, len(extra_lines))])
    else:
        words = lines[i].split(" ")
        words[rng.integers(0, len(words))] = TOKENS[rng.integers(0, len(TOKENS))]
        lines[i] = " ".join(words)
    return lines


def edit_header(data, rng, end, extra_lines=()):
    """`edit_lines` on the text header `data[:end]`, the body unchanged."""
    header = data[:end].decode("ascii").split("\n")
    return "\n".join(edit_lines(header, rng, extra_lines)).encode("ascii") + data[end:]


def ply_with_faces(points):
    """A binary PLY of `points` followed by a `face` element (a list)."""
    faces = np.array([[0, 1, 2], [2, 3, 4], [4, 5, 0], [1, 3, 5]], "<i4")
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment fuzzed\n"
        f"element vertex {len(points)}\nproperty float x\nproperty float y\n"
        "property float z\nelement face 4\nproperty list uchar int vertex_indices\n"
        "end_header\n"
    )
    body = b"".join(b"\x03" + face.tobytes() for face in faces)
    return header.encode("ascii") + points.astype("<f4").tobytes() + body


def npy_header_edit(data, rng):
    """Replaces the shape, dtype or order in a `.npy` header, or one of its
    characters; keeps the header length field right or not."""
    length = int.from_bytes(data[8:10], "little")
    header, body = data[10 : 10 + length].decode("latin1"), data[10 + length :]
    edit = rng.integers(0, 4)
    if edit == 0:
        shape = ["()", "(0,)", "(4, 32)", "(4, 32, 3, 1)", "(-1, 32, 3)",
                 "(10000000000, 3)", "(4, 32, 3)", "(384,)", "'x'"]  # fmt: skip
        header = re.sub(r"'shape': \([^)]*\)", f"'shape': {rng.choice(shape)}", header)
    elif edit == 1:
        descr = ["<f4", "<f8", ">f4", "|O", "<U1", "|b1", "<i8", "V12", "<c8", "|S3", "zz"]
        header = re.sub(r"'descr': '[^']*'", f"'descr': '{rng.choice(descr)}'", header)
    elif edit == 2:
        header = header.replace("False", "True")
    else:
        i = int(rng.integers(0, len(header)))
        header = header[:i] + chr(int(rng.integers(32, 127))) + header[i + 1 :]
    if rng.integers(0, 2):
        length = len(header)
    return data[:8] + length.to_bytes(2, "little") + header.encode("latin1") + body


def h5_header_edit(data, rng):
    """Overwrites 1 to 8 bytes among the first 2048 (the superblock and the
    object headers, where shapes and types are) with 0x00, 0xff or noise."""
    data = bytearray(data)
    start = int(rng.integers(0, min(2048, len(data)) - 8))
    size = int(rng.integers(1, 9))
    fill = rng.choice([b"\x00" * size, b"\xff" * size, rng.bytes(size)])
    data[start : start + size] = fill
    return bytes(data)


def check_cloud(num_points):
    """A finite float32 cloud, of `num_points` points unless the header was
    edited (an edited header can describe the same bytes consistently)."""

    def check(points, kind):
        assert points.dtype == np.float32 and points.ndim == 2, points.dtype
        assert points.shape[1] == 3 and np.isfinite(points).all()
        if kind != "header edit":
            assert len(points) == num_points, points.shape

    return check


class ReaderFuzzTest(TestCase):
    def fuzz(self, name, data, read, check, header_edit):
        """Runs `read` on `CASES` truncations, byte flips and header edits
        of `data`, seeded by the file name; lists every case that ends in
        another exception, a `DataFormatError` not naming the file, or a
        load that fails `check(result, kind)`."""
        path = pathlib.Path(self.tmp_dir) / name
        path.write_bytes(data)
        check(read(path), "clean")
        rng = np.random.default_rng(list(name.encode()))
        damages = {"truncation": truncate, "byte flip": flip_bytes, "header edit": header_edit}
        failures, errors = [], 0
        for kind, damage in damages.items():
            for case in range(CASES):
                path.write_bytes(damage(data, rng))
                try:
                    result = read(path)
                except DataFormatError as error:
                    errors += 1
                    if name not in str(error):
                        failures.append(f"{kind} {case}: message without the file: {error}")
                except Exception as error:  # noqa: BLE001 - what the fuzz looks for
                    failures.append(f"{kind} {case}: {type(error).__name__}: {error}"[:300])
                else:
                    try:
                        check(result, kind)
                    except AssertionError as error:
                        failures.append(f"{kind} {case}: loaded wrongly: {error}")
        self.assertEqual(failures, [], f"{len(failures)} of {3 * CASES} cases")
        # The damage is real: most cases are refused.
        self.assertGreater(errors, CASES)

    def test_ply_binary(self):
        data = ply_with_faces(clouds(1, 100)[0])
        end = data.index(b"end_header")
        extra = ["element vertex 7", "property float w", "property list uchar int q",
                 "element face 5", "format ascii 1.0", "end_header", "comment end_header"]  # fmt: skip
        self.fuzz(
            "cloud.ply", data, read_ply, check_cloud(100),
            lambda data, rng: edit_header(data, rng, end, extra),
        )  # fmt: skip

    def test_ply_ascii(self):
        path = pathlib.Path(self.tmp_dir) / "source.ply"
        write_ply(path, clouds(1, 100)[0], binary=False)
        data = path.read_bytes()
        end = data.index(b"end_header")
        extra = ["element vertex 7", "property float w", "element face 0",
                 "format binary_little_endian 1.0", "end_header"]  # fmt: skip
        self.fuzz(
            "ascii.ply", data, read_ply, check_cloud(100),
            lambda data, rng: edit_header(data, rng, end, extra),
        )  # fmt: skip

    def test_off(self):
        vertices = [f"{x} {y} {z}" for x in (0, 1) for y in (0, 1) for z in (0, 1)]
        faces = ["4 0 1 3 2", "4 4 6 7 5", "4 0 4 5 1", "4 2 3 7 6", "3 0 2 6", "3 0 6 4",
                 "4 1 5 7 3 255 0 0"]  # fmt: skip
        text = "\n".join(["OFF", "# a cube", "8 7 0", *vertices, *faces]) + "\n"

        def check(mesh, kind):
            vertices, faces = mesh
            assert vertices.ndim == 2 and vertices.shape[1] == 3
            assert np.isfinite(vertices).all()
            assert faces.ndim == 2 and faces.shape[1] == 3 and faces.dtype == np.int64
            assert faces.min() >= 0 and faces.max() < len(vertices)

        def header_edit(data, rng):
            lines = data.decode("ascii").split("\n")
            return "\n".join(edit_lines(lines[:3], rng, ["OFF", "8 7", "OFF8 7 0"]) + lines[3:]).encode()

        self.fuzz("mesh.off", text.encode("ascii"), read_off, check, header_edit)

    def test_hdf5(self):
        path = write_h5(
            pathlib.Path(self.tmp_dir) / "source.h5",
            data=clouds(4, 32), label=np.arange(4, dtype="uint8").reshape(4, 1),
        )  # fmt: skip

        def check(arrays, kind):
            assert sorted(arrays) == ["data", "label"]
            assert all(isinstance(a, np.ndarray) for a in arrays.values())

        self.fuzz(
            "clouds.h5", path.read_bytes(), lambda p: read_h5(p, ["data", "label"]),
            check, h5_header_edit,
        )  # fmt: skip

    def test_text_table(self):
        rows = np.random.default_rng(0).normal(size=(32, 6))
        text = "".join(",".join(f"{v:.6f}" for v in row) + "\n" for row in rows)
        pool = ["nan", "inf", "", "x", "1e999", "--1", "1,2", "0x10", " ", "1;2"]

        def check(table, kind):
            assert table.dtype == np.float32 and table.ndim == 2
            assert table.shape[1] == 6 and len(table) >= 1

        def header_edit(data, rng):
            lines = data.decode("ascii").split("\n")
            i = int(rng.integers(0, len(lines)))
            fields = lines[i].split(",")
            fields[rng.integers(0, len(fields))] = pool[rng.integers(0, len(pool))]
            lines[i] = ",".join(fields)
            return "\n".join(edit_lines(lines, rng) if rng.integers(0, 2) else lines).encode()

        self.fuzz(
            "cloud.txt", text.encode("ascii"), lambda p: read_text_table(p, 6, ","),
            check, header_edit,
        )  # fmt: skip

    def test_npy(self):
        path = pathlib.Path(self.tmp_dir) / "source.npy"
        np.save(path, clouds(4, 32))

        def check(array, kind):
            assert isinstance(array, np.ndarray) and not array.dtype.hasobject
            if kind == "truncation":
                assert array.shape == (4, 32, 3) and array.dtype == np.float32

        self.fuzz("clouds.npy", path.read_bytes(), read_npy, check, npy_header_edit)
