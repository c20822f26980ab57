"""The `keras-ttp` command line, run in-process through `main(argv)` (and
once through the installed script)."""

import contextlib
import io
import json
import os
import subprocess
import sys

import h5py
import keras
import numpy as np

from keras_ttp import cli
from keras_ttp.models import PointNet
from keras_ttp.presets import list_presets
from tests.test_case import TestCase
from tests.test_case import random_points

COMMANDS = ["presets", "pretrain", "evaluate", "embed"]
# Synthetic data, 6 classes x 3 shapes per split, 64 points, a small PointNet.
TINY = ["--num-per-class", "3", "--num-points", "64"]


def run_cli(*argv):
    """`(exit status, stdout, stderr)` of `keras-ttp *argv`, in-process."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = cli.main([str(a) for a in argv])
        except SystemExit as exit:
            status = exit.code
    return status, stdout.getvalue(), stderr.getvalue()


class CommandLineTest(TestCase):
    def path(self, name):
        return os.path.join(self.tmp_dir, name)

    def run_ok(self, *argv):
        """Runs `keras-ttp *argv --output <json>`; checks success and returns
        the JSON results and stdout."""
        output = self.path(f"{argv[0]}.json")
        status, stdout, stderr = run_cli(*argv, "--output", output, "--overwrite")
        self.assertEqual(status, 0, stderr)
        with open(output) as file:
            results = json.load(file)
        self.assertEqual(results["command"], argv[0])
        self.assertEqual(results["backend"], keras.backend.backend())
        return results, stdout

    def assertFails(self, argv, message):
        status, _, stderr = run_cli(*argv)
        self.assertEqual(status, 1, stderr)
        self.assertIn(message, stderr)
        self.assertNotIn("Traceback", stderr)

    def small_preset(self):
        preset = self.path("preset")
        PointNet(embedding_dim=32).save_to_preset(preset)
        return preset

    def test_help(self):
        for command in [[], *([c] for c in COMMANDS)]:
            status, stdout, _ = run_cli(*command, "--help")
            self.assertEqual(status, 0)
            self.assertIn(f"usage: keras-ttp {' '.join(command)}".strip(), stdout)
        self.assertIn("--checkpoint-dir", run_cli("pretrain", "--help")[1])

    def test_presets(self):
        results, stdout = self.run_ok("presets")
        self.assertEqual(sorted(results["presets"]), sorted(list_presets()))
        for name, entry in list_presets().items():
            listed = dict(results["presets"][name])
            self.assertIsInstance(listed.pop("shipped"), bool)
            self.assertEqual(listed, entry)
            self.assertIn(name, stdout)
            self.assertIn(entry["description"], stdout)

    def test_pretrain_then_evaluate_and_embed(self):
        preset = self.path("pretrained")
        results, _ = self.run_ok(
            "pretrain", "--preset-dir", preset, "--epochs", "1", "--batch-size", "6",
            "--embedding-dim", "32", "--checkpoint-dir", self.path("checkpoints"), *TINY,
        )  # fmt: skip
        self.assertTrue(np.isfinite(results["loss"]))
        self.assertIn("cross_branch_loss", results)
        self.assertIn("synthetic", results["data"])
        metadata = json.load(open(os.path.join(preset, "metadata.json")))
        self.assertEqual(metadata["pretraining"]["epochs"], 1)
        self.assertEqual(PointNet.from_preset(preset).embedding_dim, 32)

        results, stdout = self.run_ok(
            "evaluate", preset, *TINY, "--ways", "5", "10", "--shots", "1",
            "--queries", "2", "--episodes", "2",
        )  # fmt: skip
        self.assertTrue(0 <= results["linear_svm"]["accuracy"] <= 100)
        self.assertEqual(results["linear_svm"]["C"], 0.1)
        few_shot = results["few_shot"]
        self.assertTrue(0 <= few_shot["5-way 1-shot"]["mean"] <= 100)
        self.assertIn("skipped", few_shot["10-way 1-shot"])
        self.assertIn("Linear SVM", stdout)

        embeddings = self.path("out/embeddings.npy")
        results, _ = self.run_ok("embed", preset, "--embeddings", embeddings, *TINY)
        self.assertEqual(results["shape"], [18, 32])
        self.assertEqual(np.load(embeddings).shape, (18, 32))
        self.assertEqual(np.load(results["labels"]).shape, (18,))

    def test_embed_points_files(self):
        preset = self.small_preset()
        points = random_points(3, 40)
        np.save(self.path("clouds.npy"), points)
        np.save(self.path("cloud.npy"), points[0])
        with h5py.File(self.path("clouds.h5"), "w") as file:
            file["xyz"] = points
        expected = PointNet.from_preset(preset).predict(points, verbose=0)
        for name, extra in [("clouds.npy", []), ("clouds.h5", ["--h5-key", "xyz"])]:
            out = self.path(f"{name}.embeddings.npy")
            results, _ = self.run_ok(
                "embed", preset, "--points", self.path(name), "--embeddings", out, *extra
            )
            self.assertEqual(results["shape"], [3, 32])
            self.assertAllClose(np.load(out), expected["global_features"], atol=1e-4)
        results, _ = self.run_ok(
            "embed", preset, "--points", self.path("cloud.npy"),
            "--embeddings", self.path("one.npy"),
        )  # fmt: skip
        self.assertEqual(results["shape"], [1, 32])

    def test_evaluate_random_init(self):
        results, _ = self.run_ok(
            "evaluate", self.small_preset(), "--random-init", "--protocol", "svm", *TINY
        )
        self.assertTrue(results["random_init"])
        self.assertNotIn("few_shot", results)
        self.assertTrue(0 <= results["linear_svm"]["accuracy"] <= 100)

    def test_bad_input(self):
        preset = self.small_preset()
        embed = ["embed", preset, "--embeddings", self.path("e.npy"), "--points"]
        self.assertFails([*embed, self.path("missing.npy")], "not found")
        points = random_points(2, 16)
        points[1, 3, 0] = np.nan
        np.save(self.path("nan.npy"), points)
        self.assertFails([*embed, self.path("nan.npy")], "NaN")
        np.save(self.path("flat.npy"), np.zeros((2, 16, 2), "float32"))
        self.assertFails([*embed, self.path("flat.npy")], "shape")
        self.assertFails([*embed, self.path("clouds.txt")], ".npy or .h5")
        self.assertFails(["evaluate", "no_such_preset"], "Unknown preset 'no_such_preset'")
        self.assertFails(
            ["evaluate", preset, "--data-dir", self.path("nowhere")],
            "data directory not found",
        )
        self.assertFails(["pretrain", "--preset-dir", preset], "already exists")
        open(self.path("taken.json"), "w").close()
        self.assertFails(["presets", "--output", self.path("taken.json")], "--overwrite")
        # Usage errors are argparse's: exit status 2.
        self.assertEqual(run_cli("pretrain")[0], 2)
        self.assertEqual(run_cli("pretrain", "--backbone", "resnet", "--preset-dir", "x")[0], 2)

    def test_installed_script(self):
        script = os.path.join(os.path.dirname(sys.executable), "keras-ttp")
        self.assertTrue(os.path.isfile(script), f"{script}: run `pip install -e .`")
        process = subprocess.run(
            [script, "presets"], capture_output=True, text=True, timeout=300,
            env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
        )  # fmt: skip
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("ttp_shapenet_pointnet", process.stdout)
