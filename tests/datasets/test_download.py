import contextlib
import dataclasses
import functools
import hashlib
import http.server
import os
import pathlib
import shutil
import socket
import threading
from unittest import mock

import numpy as np

from keras_ttp.datasets import ARCHIVES
from keras_ttp.datasets import fetch_archive
from keras_ttp.datasets import get_dataset_dir
from keras_ttp.datasets import load_modelnet_h5
from tests.datasets.layouts import clouds
from tests.datasets.layouts import write_modelnet_h5
from tests.test_case import TestCase


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in pathlib.Path(path).rglob("*"))


class DownloadTest(TestCase):
    def setUp(self):
        super().setUp()
        tmp = pathlib.Path(self.tmp_dir)
        self.served = tmp / "served"
        self.cache = tmp / "cache"
        # The official archive's layout: a zip holding the folder.
        staging = tmp / "staging"
        self.labels = np.array([1, 0, 2])
        write_modelnet_h5(
            staging / "modelnet40_ply_hdf5_2048",
            {"train": [(clouds(3, 16), self.labels)], "test": [(clouds(2, 16), [0, 0])]},
            ["airplane", "bathtub", "bed"],
        )
        self.served.mkdir()
        archive = shutil.make_archive(
            str(self.served / "modelnet40_ply_hdf5_2048"), "zip", staging
        )
        self.sha256 = hashlib.sha256(pathlib.Path(archive).read_bytes()).hexdigest()
        (self.served / "broken.zip").write_bytes(b"<html>not an archive</html>")
        handler = functools.partial(QuietHandler, directory=str(self.served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        QuietHandler.requests = []
        # The served archive stands for the official one: its checksum.
        official = self.published = ARCHIVES["modelnet40_ply_hdf5_2048"]
        self.enterContext(
            mock.patch.dict(
                ARCHIVES,
                {official.folder: dataclasses.replace(official, file_hash=self.sha256)},
            )
        )

    def test_download_once_then_cache(self):
        path = get_dataset_dir(
            "modelnet40_ply_hdf5_2048", base_url=self.url, cache_dir=self.cache
        )
        self.assertEqual(path.name, "modelnet40_ply_hdf5_2048")
        self.assertTrue(str(path).startswith(str(self.cache)))
        np.testing.assert_array_equal(load_modelnet_h5(path).labels, self.labels)
        again = get_dataset_dir(
            "modelnet40_ply_hdf5_2048", base_url=self.url, cache_dir=self.cache
        )
        self.assertEqual(again, path)
        self.assertEqual(QuietHandler.requests, ["/modelnet40_ply_hdf5_2048.zip"])

    def test_environment_variables_and_local_copies_win(self):
        root = pathlib.Path(self.tmp_dir) / "data_root"
        environment = {"KERAS_TTP_DATA_DIR": str(root), "KERAS_TTP_DATA_URL": self.url}
        with mock.patch.dict(os.environ, environment):
            # Nothing local: downloaded into $KERAS_TTP_DATA_DIR.
            data = load_modelnet_h5(split="test")
            self.assertEqual(len(data), 2)
            self.assertTrue((root / "keras_ttp" / "modelnet40_ply_hdf5_2048").is_dir())
            self.assertEqual(len(QuietHandler.requests), 1)
            # A local folder in $KERAS_TTP_DATA_DIR wins over the download.
            local = root / "modelnet40_ply_hdf5_2048"
            write_modelnet_h5(local, {"test": [(clouds(4, 16), [1, 1, 1, 1])]}, ["a", "b"])
            self.assertEqual(get_dataset_dir("modelnet40_ply_hdf5_2048"), local)
            self.assertEqual(len(load_modelnet_h5(split="test")), 4)
            # So does an explicit data_dir.
            explicit = root / "keras_ttp" / "modelnet40_ply_hdf5_2048" / "modelnet40_ply_hdf5_2048"
            self.assertEqual(len(load_modelnet_h5(explicit, "test")), 2)
        self.assertEqual(len(QuietHandler.requests), 1)

    def test_checksums(self):
        origin = f"{self.url}/modelnet40_ply_hdf5_2048.zip"
        with self.assertRaisesRegex(
            ValueError, "does not match its checksum 0{64}; it was deleted"
        ):
            fetch_archive(origin, "modelnet40_ply_hdf5_2048", "0" * 64, self.cache)
        self.assertEqual(files_under(self.cache), ["keras_ttp"])
        path = fetch_archive(origin, "modelnet40_ply_hdf5_2048", self.sha256, self.cache)
        self.assertEqual(len(load_modelnet_h5(path)), 3)

    def test_broken_downloads_leave_nothing(self):
        with self.assertRaisesRegex(ValueError, "broken.zip has no folder 'data'"):
            with self.assertWarnsRegex(UserWarning, "Could not extract archive"):
                fetch_archive(f"{self.url}/broken.zip", "data", cache_dir=self.cache)
        self.assertEqual(files_under(self.cache), ["keras_ttp"])
        with self.assertRaisesRegex(Exception, "URL fetch failure on .*missing.zip: 404"):
            fetch_archive(f"{self.url}/missing.zip", "data", cache_dir=self.cache)
        self.assertEqual(files_under(self.cache), ["keras_ttp"])

    def test_manual_data_sets(self):
        with mock.patch.dict(os.environ, {"KERAS_TTP_DATA_DIR": self.tmp_dir}):
            with self.assertRaisesRegex(
                FileNotFoundError, "scanobjectnn not found: .*hkust-vgd.github.io"
            ):
                get_dataset_dir("scanobjectnn")
            with self.assertRaisesRegex(FileNotFoundError, "download https://shapenet"):
                get_dataset_dir("modelnet40_ply_hdf5_2048", download=False)
        with self.assertRaisesRegex(ValueError, "Unknown data set 'modelnet41'"):
            get_dataset_dir("modelnet41")
        for name, archive in ARCHIVES.items():
            self.assertTrue(archive.url or archive.note, name)

    def test_published_checksums_are_checked(self):
        hashes = {name: a.file_hash for name, a in ARCHIVES.items() if a.file_hash}
        self.assertEqual(
            sorted(hashes), ["ModelNet40", "modelnet40_c", "modelnet40_ply_hdf5_2048"]
        )
        for name, file_hash in hashes.items():
            self.assertRegex(file_hash, "^([0-9a-f]{32}|[0-9a-f]{64})$", name)
        # get_dataset_dir checks the download against the entry's checksum:
        # the served archive is not the one the published checksum is of.
        with mock.patch.dict(ARCHIVES, {"modelnet40_ply_hdf5_2048": self.published}):
            with self.assertRaisesRegex(
                ValueError, "does not match its checksum 07670e23.*it was deleted"
            ):
                get_dataset_dir(
                    "modelnet40_ply_hdf5_2048", base_url=self.url, cache_dir=self.cache
                )
        self.assertEqual(files_under(self.cache), ["keras_ttp"])

    def test_offline_says_what_to_do(self):
        """A download that cannot reach its host (404, or nothing listening)
        names the folder to create and the `data_dir` to pass."""
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{unused.getsockname()[1]}"
        root = pathlib.Path(self.tmp_dir) / "data_root"
        for base_url, cause in [
            (f"{self.url}/nothing", "404"),
            (closed, "Connection refused"),
        ]:
            with self.subTest(cause):
                with mock.patch.dict(os.environ, {"KERAS_TTP_DATA_DIR": ""}):
                    with self.assertRaisesRegex(
                        ConnectionError,
                        rf"Could not download {base_url}/modelnet40_ply_hdf5_2048.zip "
                        rf"\(URL fetch failure.*{cause}.*\)\. .*pass `data_dir=` the "
                        r"path of its extracted 'modelnet40_ply_hdf5_2048' folder, or "
                        r"put that folder at \$KERAS_TTP_DATA_DIR/modelnet40_ply_hdf5_2048 "
                        r"\(KERAS_TTP_DATA_DIR is not set: set it to the directory that "
                        r"holds 'modelnet40_ply_hdf5_2048'\)",
                    ):
                        get_dataset_dir(
                            "modelnet40_ply_hdf5_2048", base_url=base_url, cache_dir=self.cache
                        )
                environment = {"KERAS_TTP_DATA_DIR": str(root), "KERAS_TTP_DATA_URL": base_url}
                with mock.patch.dict(os.environ, environment):
                    with self.assertRaisesRegex(
                        ConnectionError,
                        f"put that folder at {root / 'modelnet40_ply_hdf5_2048'};",
                    ):
                        load_modelnet_h5(split="test")
                self.assertEqual(files_under(self.cache), ["keras_ttp"])
                self.assertEqual(files_under(root), ["keras_ttp"])
