"""The `keras-ttp` command line, run in-process through `main(argv)` (and
once through the installed script)."""

import contextlib
import io
import json
import os
import argparse
import subprocess
import sys
from unittest import mock

import h5py
import keras
import numpy as np

from keras_ttp import cli
from keras_ttp import workflows
from keras_ttp.models import PointNet
from keras_ttp.presets import list_presets
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase
from tests.test_case import random_points

COMMANDS = ["presets", "pretrain", "evaluate", "embed"]
COMPILES = {"tensorflow": True, "jax": True, "torch": False}[keras.backend.backend()]
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
        results, stdout = self.run_ok(
            "pretrain", "--preset-dir", preset, "--epochs", "1", "--batch-size", "6",
            "--embedding-dim", "32", "--checkpoint-dir", self.path("checkpoints"), *TINY,
        )  # fmt: skip
        # Said once, before the first step, where that step compiles.
        self.assertEqual(stdout.count("The first training step compiles"), int(COMPILES))
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
        self.assertEqual(stdout.count("The first embedding step compiles"), int(COMPILES))

        embeddings = self.path("out/embeddings")  # np.save adds .npy
        results, stdout = self.run_ok("embed", preset, "--embeddings", embeddings, *TINY)
        self.assertEqual(results["shape"], [18, 32])
        self.assertIn(f"saved to {embeddings}.npy", stdout)
        self.assertEqual(np.load(embeddings + ".npy").shape, (18, 32))
        self.assertEqual(results["labels"], embeddings + "_labels.npy")
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

    def assertRefusedBeforeWork(self, argv, message):
        """`keras-ttp *argv` fails with `message` before any work: nothing
        printed, no data loaded, no model made."""
        failing = mock.Mock(side_effect=AssertionError("work started"))
        with mock.patch.multiple(
            workflows, load_pretraining_points=failing, load_classification_data=failing,
            load_points_file=failing, make_backbone=failing,
        ):  # fmt: skip
            status, stdout, stderr = run_cli(*argv)
        self.assertEqual(status, 1, stderr)
        self.assertEqual(stdout, "")
        self.assertIn(message, stderr)
        self.assertNotIn("Traceback", stderr)

    def test_outputs_are_checked_before_any_work(self):
        folder = self.path("folder")
        os.makedirs(os.path.join(folder, "inside"))
        os.makedirs(self.path("empty"))
        open(self.path("file"), "w").close()
        preset = self.small_preset()
        evaluate = ["evaluate", preset, "--output"]
        for overwrite in ([], ["--overwrite"]):
            self.assertRefusedBeforeWork([*evaluate, folder, *overwrite], "is a folder")
            self.assertRefusedBeforeWork([*evaluate, self.path("empty"), *overwrite], "is a folder")
        self.assertRefusedBeforeWork(
            [*evaluate, self.path("file/out.json")], "is a file, not a folder"
        )
        self.assertRefusedBeforeWork(
            [*evaluate, self.path("file/deeper/out.json")], "is a file, not a folder"
        )
        self.assertRefusedBeforeWork([*evaluate, self.path("file")], "--overwrite")

        embed = ["embed", preset, "--embeddings"]
        self.assertRefusedBeforeWork([*embed, folder, "--overwrite"], "is a folder")
        self.assertRefusedBeforeWork([*embed, self.path("new") + os.sep], "is a folder")
        # The labels written next to the embeddings of a split, and the
        # `.npy` np.save adds, are outputs too.
        open(self.path("e_labels.npy"), "w").close()
        self.assertRefusedBeforeWork([*embed, self.path("e.npy")], "e_labels.npy already exists")
        self.assertRefusedBeforeWork([*embed, self.path("e")], "e_labels.npy already exists")
        open(self.path("f.npy"), "w").close()
        self.assertRefusedBeforeWork([*embed, self.path("f")], "f.npy already exists")
        same = self.path("same.npy")
        self.assertRefusedBeforeWork([*embed, same, "--output", same], "two outputs")

        pretrain = ["pretrain", "--preset-dir"]
        self.assertRefusedBeforeWork([*pretrain, self.path("file"), "--overwrite"], "is a file")
        self.assertRefusedBeforeWork([*pretrain, preset], "already exists")
        self.assertRefusedBeforeWork(
            [*pretrain, self.path("new"), "--checkpoint-dir", self.path("file")], "is a file"
        )
        self.assertRefusedBeforeWork(
            [*pretrain, self.path("new"), "--checkpoint-dir", self.path("new")], "two outputs"
        )

    def test_unwritable_output_folder_is_refused_before_any_work(self):
        locked = self.path("locked")
        os.makedirs(locked)
        os.chmod(locked, 0o555)
        self.addCleanup(os.chmod, locked, 0o755)
        argv = ["evaluate", self.small_preset(), "--output", os.path.join(locked, "sub/r.json")]
        if os.access(locked, os.W_OK):  # root writes anyway: fail the probe
            denied = PermissionError(13, "Permission denied")
            with mock.patch.object(workflows.tempfile, "TemporaryFile", side_effect=denied):
                self.assertRefusedBeforeWork(argv, f"cannot write in {locked}")
        else:
            self.assertRefusedBeforeWork(argv, f"cannot write in {locked}")

    def test_results_file_is_written_whole_or_not_at_all(self):
        path = os.path.join(self.tmp_dir, "results.json")
        workflows.write_json(path, {"accuracy": np.float32(0.5)})
        with self.assertRaisesRegex(TypeError, "object is not JSON serialisable"):
            workflows.write_json(path, {"accuracy": 0.7, "model": object()})  # fails part way
        self.assertEqual(json.load(open(path)), {"accuracy": 0.5})

    def test_counts_must_be_positive(self):
        parser = cli.build_parser()
        commands = parser._subparsers._group_actions[0].choices
        for name, command in commands.items():
            for action in command._actions:  # every number goes through a check
                self.assertNotIn(action.type, (int, float), f"{name} {action.dest}")
        preset = self.small_preset()
        cases = [
            ("pretrain", "--preset-dir", "x", "--num-points"),
            ("pretrain", "--preset-dir", "x", "--epochs"),
            ("pretrain", "--preset-dir", "x", "--batch-size"),
            ("pretrain", "--preset-dir", "x", "--embedding-dim"),
            ("pretrain", "--preset-dir", "x", "--num-per-class"),
            ("evaluate", preset, "--num-points"),
            ("evaluate", preset, "--queries"),
            ("evaluate", preset, "--episodes"),
            ("evaluate", preset, "--ways"),
            ("evaluate", preset, "--shots"),
            ("embed", preset, "--embeddings", "e.npy", "--num-points"),
            ("embed", preset, "--embeddings", "e.npy", "--batch-size"),
        ]
        for *argv, flag in cases:
            for value in ("-5", "0", "1.5"):
                status, _, stderr = run_cli(*argv, flag, value)
                self.assertEqual(status, 2, (argv, flag, value))
                self.assertIn(
                    f"argument {flag}: expected a positive integer, got '{value}'", stderr
                )
        status, _, stderr = run_cli("evaluate", preset, "--svm-c", "0")
        self.assertIn("argument --svm-c: expected a positive number, got '0'", stderr)
        status, _, stderr = run_cli("evaluate", preset, "--seed", "-1")
        self.assertIn("argument --seed: expected a non-negative integer, got '-1'", stderr)
        self.assertEqual(cli.positive_int("7"), 7)
        with self.assertRaises(argparse.ArgumentTypeError):
            cli.positive_int("-7")

    def test_more_points_than_the_clouds_hold(self):
        self.assertFails(
            ["evaluate", self.small_preset(), "--num-per-class", "3", "--num-points", "4096"],
            "--num-points 4096: the clouds hold only 2048 points each",
        )

    def test_python_dash_m(self):
        process = subprocess.run(
            [sys.executable, "-m", "keras_ttp", "presets"], capture_output=True, text=True,
            timeout=300, cwd=REPO_ROOT,
            env={
                **os.environ, "KERAS_BACKEND": keras.backend.backend(),
                "PYTHONPATH": str(REPO_ROOT),
            },
        )  # fmt: skip
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("ttp_shapenet_pointnet", process.stdout)

    def test_installed_script(self):
        script = os.path.join(os.path.dirname(sys.executable), "keras-ttp")
        self.assertTrue(os.path.isfile(script), f"{script}: run `pip install -e .`")
        process = subprocess.run(
            [script, "presets"], capture_output=True, text=True, timeout=300,
            env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
        )  # fmt: skip
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("ttp_shapenet_pointnet", process.stdout)
