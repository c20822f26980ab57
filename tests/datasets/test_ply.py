import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import read_ply
from keras_ttp.datasets import write_ply
from tests.datasets.layouts import clouds
from tests.datasets.layouts import truncate
from tests.test_case import TestCase
from tests.test_case import shared_data_dir


def ply_header(*lines, fmt="ascii"):
    """A PLY header with the given element and property lines."""
    return "".join(f"{line}\n" for line in ["ply", f"format {fmt} 1.0", *lines, "end_header"])


def write_bytes(path, text, body=b""):
    path.write_bytes(text.encode("ascii") + body)
    return path


class PlyTest(TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = clouds(1, 100)[0]
        self.path = self.tmp_path("cloud.ply")

    def tmp_path(self, name):
        return pathlib.Path(self.tmp_dir) / name

    def test_binary_and_ascii_round_trip(self):
        for binary in (True, False):
            write_ply(self.path, self.cloud, binary=binary)
            points = read_ply(self.path)
            self.assertEqual(points.dtype, np.float32)
            self.assertAllClose(points, self.cloud, atol=1e-5, rtol=1e-6)

    def test_big_endian_extra_properties_and_elements(self):
        # A double-precision big-endian file with normals, a scalar element
        # before the vertices and a face element (list property) after them.
        table = np.zeros(
            len(self.cloud), [(n, ">f8") for n in "xyz"] + [("nx", ">f4"), ("flag", ">u1")]
        )
        for i, axis in enumerate("xyz"):
            table[axis] = self.cloud[:, i]
        header = (
            "ply\nformat binary_big_endian 1.0\ncomment made by a test\n"
            "element camera 2\nproperty float a\nproperty uchar b\n"
            f"element vertex {len(self.cloud)}\nproperty double x\nproperty double y\n"
            "property double z\nproperty float nx\nproperty uchar flag\n"
            "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
        )
        body = np.zeros(2, ">f4,u1").tobytes() + table.tobytes()
        body += np.array([3], "u1").tobytes() + np.array([0, 1, 2], ">i4").tobytes()
        write_bytes(self.path, header, body)
        self.assertAllClose(read_ply(self.path), self.cloud, atol=1e-6)

    def test_ascii_with_other_columns(self):
        rows = "\n".join(f"9 {x} {y} {z}" for x, y, z in self.cloud[:5])
        header = (
            "ply\nformat ascii 1.0\nelement vertex 5\nproperty int id\n"
            "property float x\nproperty float y\nproperty float z\nend_header\n"
        )
        write_bytes(self.path, header, rows.encode())
        self.assertAllClose(read_ply(self.path), self.cloud[:5], atol=1e-5)

    def test_real_shapenet_file(self):
        path = next(shared_data_dir("shapenet260").glob("*/*.ply"))
        points = read_ply(path)
        self.assertEqual(points.shape, (2048, 3))
        # The header (with CRLF line ends) is followed by 2048 x 3 float32.
        data = path.read_bytes()
        raw = np.frombuffer(data, "<f4", offset=len(data) - 2048 * 12).reshape(-1, 3)
        self.assertAllClose(points, raw, atol=0)

    def test_truncated_binary(self):
        write_ply(self.path, self.cloud)
        truncate(self.path, 0.6)
        with self.assertRaisesRegex(DataFormatError, r"cloud\.ply: truncated.*100 vertices"):
            read_ply(self.path)

    def test_truncated_ascii(self):
        write_ply(self.path, self.cloud, binary=False)
        truncate(self.path, 0.6)
        with self.assertRaisesRegex(DataFormatError, r"cloud\.ply: (truncated|bad vertex row)"):
            read_ply(self.path)

    def test_corrupted_files(self):
        xyz = ["property float x", "property float y", "property float z"]
        cases = {
            "not a PLY": ("hello\n", b""),
            "unknown PLY format": (ply_header("element vertex 1", fmt="binary_middle_endian"), b""),
            "bad PLY header line": (ply_header("element vertex many"), b""),
            "no 'vertex' element": (ply_header("element face 0"), b""),
            r"no \['z'\] property": (ply_header("element vertex 1", *xyz[:2]), b"1 2\n"),
            "list properties": (
                ply_header("element vertex 1", "property list uchar int i", *xyz),
                b"1 0 1 2 3\n",
            ),
            "vertex rows have 2 values": (ply_header("element vertex 1", *xyz), b"1 2\n"),
        }
        for message, (text, body) in cases.items():
            with self.subTest(message):
                write_bytes(self.path, text, body)
                with self.assertRaisesRegex(DataFormatError, f"cloud.ply: .*{message}"):
                    read_ply(self.path)

    def test_nan_coordinates(self):
        self.cloud[7, 1] = np.nan
        write_ply(self.path, self.cloud)
        with self.assertRaisesRegex(DataFormatError, r"cloud\.ply: 1 points have NaN.*point 7"):
            read_ply(self.path)

    def test_missing_file(self):
        with self.assertRaisesRegex(FileNotFoundError, "PLY file not found: .*nothing.ply"):
            read_ply(self.tmp_path("nothing.ply"))

    def test_vertex_count_must_match_the_file(self):
        # Fewer or more vertices declared than held, ascii and binary, with
        # and without a face element after the vertices.
        for binary in (True, False):
            write_ply(self.path, self.cloud, binary=binary)
            data = self.path.read_bytes()
            for declared, message in [
                (90, "the header declares 90 vertices but the file holds 100"),
                (101, "truncated, the header declares 101 vertices but the file holds 100"),
            ]:
                with self.subTest(binary=binary, declared=declared):
                    self.path.write_bytes(data.replace(b"vertex 100", b"vertex %d" % declared))
                    with self.assertRaisesRegex(DataFormatError, f"cloud.ply: {message}"):
                        read_ply(self.path)
        face = "element face 1\nproperty list uchar int vertex_indices\n"
        body = self.cloud.astype("<f4").tobytes() + b"\x03" + np.arange(3, dtype="<i4").tobytes()
        header = ply_header(
            "element vertex 100", "property float x", "property float y",
            "property float z", face.strip(), fmt="binary_little_endian",
        )  # fmt: skip
        write_bytes(self.path, header, body)
        self.assertAllClose(read_ply(self.path), self.cloud, atol=0)
        write_bytes(self.path, header.replace("vertex 100", "vertex 99"), body)
        with self.assertRaisesRegex(DataFormatError, "cloud.ply: (truncated|12 bytes after)"):
            read_ply(self.path)
        write_bytes(self.path, header.replace("face 1", "face 2"), body)
        with self.assertRaisesRegex(DataFormatError, "cloud.ply: truncated, .* element 'face'"):
            read_ply(self.path)
        # Trailing whitespace after the last element is tolerated.
        write_bytes(self.path, header, body + b"\r\n")
        self.assertEqual(read_ply(self.path).shape, (100, 3))

    def test_values_beyond_float32_and_repeated_properties(self):
        xyz = ["property double x", "property double y", "property double z"]
        header = ply_header("element vertex 1", *xyz, fmt="binary_little_endian")
        write_bytes(self.path, header, np.array([1e300, 0, 0], "<f8").tobytes())
        with self.assertRaisesRegex(DataFormatError, "cloud.ply: 1 points .* beyond float32"):
            read_ply(self.path)
        write_bytes(self.path, ply_header("element vertex 1", *xyz, xyz[0]), b"1 2 3 4\n")
        with self.assertRaisesRegex(DataFormatError, "cloud.ply: repeated PLY property"):
            read_ply(self.path)
