"""Each example script in its shortest form, as a subprocess on the current
backend: exit status 0 and results with the expected keys in sane ranges."""

import json
import os
import struct
import subprocess
import sys
import zlib
from unittest import mock

import keras
import numpy as np
import pytest

from keras_ttp.datasets import SYNTHETIC_CLASSES
from keras_ttp.models import Backbone
from keras_ttp.models import PointNet
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase
from tests.test_case import shared_data_dir

EXAMPLES = REPO_ROOT / "examples"
# The smallest sizes that still exercise everything: 6 synthetic classes.
# Batch sizes divide the numbers of shapes: on jax and tensorflow a smaller
# last batch would compile the step once more.
TINY = ["--num-per-class", "5", "--num-points", "64", "--embedding-dim", "32"]


def run_script(args, cwd):
    """Runs `python *args` in `cwd` on the current backend; returns the
    completed process (stdout and stderr as text)."""
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    return subprocess.run(
        [sys.executable, *map(str, args)], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def read_png(path):
    """`(width, height, pixels)` of an 8-bit RGB PNG written in one IDAT."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 2)
    length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    rows = zlib.decompress(data[41 : 41 + length])
    assert len(rows) == height * (1 + 3 * width)
    pixels = np.frombuffer(rows, "uint8").reshape(height, 1 + 3 * width)[:, 1:]
    return width, height, pixels.reshape(height, width, 3)


class ExampleTestCase(TestCase):
    def run_example(self, script, *flags, data="synthetic"):
        """Runs `examples/<script>` with `flags` and `--output`; checks the
        exit status and the data named in the results, which it returns."""
        output = os.path.join(self.tmp_dir, "results.json")
        process = run_script([EXAMPLES / script, *flags, "--output", output], self.tmp_dir)
        self.assertEqual(
            process.returncode, 0, f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
        )
        with open(output) as file:
            results = json.load(file)
        self.assertEqual(results["backend"], keras.backend.backend())
        self.assertIn(data, results["data"])
        return results

    def assertPercent(self, value):
        self.assertTrue(0.0 <= value <= 100.0, value)


class ExamplesTest(ExampleTestCase):
    def make_preset(self):
        """A randomly initialised small PointNet saved as a preset."""
        preset = os.path.join(self.tmp_dir, "preset")
        PointNet(embedding_dim=32).save_to_preset(preset)
        return preset

    def pretrain(self, epochs):
        """Runs `pretrain.py` for `epochs`; checks its results and preset."""
        preset = os.path.join(self.tmp_dir, "pretrained")
        results = self.run_example(
            "pretrain.py", "--epochs", str(epochs), "--num-per-class", "2",
            "--batch-size", "4", "--num-points", "64", "--eval-points", "64",
            "--embedding-dim", "32", "--preset-dir", preset,
            "--checkpoint-dir", os.path.join(self.tmp_dir, "checkpoints"),
        )  # fmt: skip
        self.assertPercent(results["svm_accuracy_random_init"])
        self.assertPercent(results["svm_accuracy_tothepoint"])
        self.assertEqual(results["pretraining"]["epochs"], epochs)
        self.assertEqual(PointNet.from_preset(preset).embedding_dim, 32)
        return results

    def test_pretrain(self):
        """Everything but the training (zero epochs): data, SVMs, preset and
        results. Pre-training itself, with checkpoints, is run by
        `test_pretrain_one_epoch` (slow) and by tests/test_cli.py."""
        self.pretrain(epochs=0)

    @pytest.mark.slow
    def test_pretrain_one_epoch(self):
        results = self.pretrain(epochs=1)
        self.assertTrue(np.isfinite(results["pretraining"]["loss"]))
        for term in ("intra_branch_1_loss", "intra_branch_2_loss", "cross_branch_loss"):
            self.assertIn(term, results["pretraining"])

    def test_linear_svm(self):
        # `--preset` (a second backbone) is exercised by the t-SNE example.
        results = self.run_example("linear_svm.py", *TINY, "--svm-c", "0.01", "0.1")
        result = results["linear_svm"]["random_init"]
        self.assertPercent(result["accuracy"])
        self.assertIn(result["C"], [0.01, 0.1])  # chosen on validation
        self.assertEqual(len(result["validation_accuracy"]), 2)
        self.assertEqual((result["num_train"], result["num_test"]), (30, 30))

    def test_few_shot(self):
        results = self.run_example(
            "few_shot.py", *TINY, "--ways", "5", "10", "--shots", "2",
            "--queries", "3", "--episodes", "2",
        )  # fmt: skip
        table = results["few_shot"]["random_init"]
        self.assertPercent(table["5-way 2-shot"]["mean"])
        self.assertGreaterEqual(table["5-way 2-shot"]["std"], 0.0)
        self.assertIn("10 classes", table["10-way 2-shot"]["skipped"])

    def test_finetune_classification(self):
        results = self.run_example(
            "finetune_classification.py", *TINY, "--epochs", "2", "--batch-size", "6"
        )
        result = results["fine_tuning"]["random_init"]
        self.assertPercent(result["test_accuracy"])
        self.assertPercent(result["validation_accuracy"])
        self.assertIn(result["best_epoch"], (1, 2))

    def test_part_segmentation(self):
        results = self.run_example(
            "part_segmentation.py", *TINY, "--num-per-class", "3", "--epochs", "1",
            "--batch-size", "6",
        )  # fmt: skip
        metrics = results["part_segmentation"]["random_init"]
        for key in ("instance_miou", "class_miou", "accuracy"):
            self.assertPercent(metrics[key])
        self.assertEqual(sorted(metrics["category_iou"]), sorted(SYNTHETIC_CLASSES))

    def test_visualize_embeddings(self):
        image = os.path.join(self.tmp_dir, "tsne.png")
        results = self.run_example(
            "visualize_embeddings.py", *TINY, "--preset", self.make_preset(),
            "--image", image, "--panel-size", "64",
        )  # fmt: skip
        self.assertEqual(results["panels"], ["random_init", "preset"])
        self.assertEqual(sorted(results["colours"]), sorted(SYNTHETIC_CLASSES))
        for score in results["silhouette"].values():
            self.assertTrue(-1.0 <= score <= 1.0, score)
        width, height, pixels = read_png(image)
        self.assertEqual((width, height), (2 * 64 + 8, 64))
        colours = {f"#{bytes(p).hex()}" for p in pixels.reshape(-1, 3)}
        self.assertTrue(set(results["colours"].values()) & colours)

    def test_existing_output_is_refused(self):
        """The flags of every example (parsed in-process, no subprocess)."""
        sys.path.insert(0, str(EXAMPLES))
        self.addCleanup(sys.path.remove, str(EXAMPLES))
        import common

        output = os.path.join(self.tmp_dir, "results.json")
        open(output, "w").close()
        settings = {"seed": 0, "ways": [5, 10]}
        argv = ["example.py", "--output", output, "--ways", "5"]
        with mock.patch.object(sys, "argv", argv), mock.patch("sys.stderr"):
            with self.assertRaises(SystemExit) as raised:
                common.parse_args("Title: x", settings, "data")
        self.assertEqual(raised.exception.code, 2)
        with mock.patch.object(sys, "argv", [*argv, "--overwrite"]):
            args = common.parse_args("Title: x", settings, "data")
        self.assertEqual((args.ways, args.seed, args.preset), ([5], 0, None))


class DistributedExampleTest(TestCase):
    def test_pretrain_distributed(self):
        # jax: 4 host devices under DataParallel; tensorflow: MirroredStrategy
        # (its multi-worker path: tests/distribution); torch: a clear error.
        backend = keras.backend.backend()
        preset = os.path.join(self.tmp_dir, "encoder")
        env = {**os.environ, "KERAS_BACKEND": backend}
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
        process = subprocess.run(
            [sys.executable, EXAMPLES / "pretrain_distributed.py", *TINY,
             "--epochs", "1", "--batch-size", "8", "--preset-dir", preset],
            cwd=self.tmp_dir, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        output = process.stdout + process.stderr
        if backend == "torch":
            self.assertNotEqual(process.returncode, 0)
            self.assertIn("no data-parallel engine for the torch backend", output)
            return
        self.assertEqual(process.returncode, 0, output[-3000:])
        self.assertIn("Process 0 of 1: 30 of 30 clouds", output)
        self.assertEqual(type(Backbone.from_preset(preset)).__name__, "PointNet")


@pytest.mark.slow
class RealDataExamplesTest(ExampleTestCase):
    """The `--data-dir` paths on the project's real data (slow)."""

    def test_linear_svm_modelnet10(self):
        results = self.run_example(
            "linear_svm.py", "--data-dir", shared_data_dir(), "--embedding-dim", "32",
            "--num-points", "256", data="ModelNet10",
        )  # fmt: skip
        self.assertEqual(results["linear_svm"]["random_init"]["num_test"], 899)

    def test_part_segmentation_shapenetpart(self):
        results = self.run_example(
            "part_segmentation.py", "--data-dir", shared_data_dir("formats"),
            "--epochs", "1", "--embedding-dim", "32", "--num-points", "128",
            data="ShapeNetPart",
        )  # fmt: skip
        metrics = results["part_segmentation"]["random_init"]
        self.assertPercent(metrics["instance_miou"])
