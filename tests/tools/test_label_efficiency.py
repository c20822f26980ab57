"""tools/label_efficiency.py --quick: the plumbing on tiny synthetic data."""

import json
import os

import numpy as np
import pytest

from keras_ttp import evaluation
from keras_ttp import workflows
from keras_ttp.models import PointNet
from tests.test_case import TestCase
from tests.utils.test_epoch_seeds import Kill
from tools import label_efficiency


class LabelEfficiencyTest(TestCase):
    def test_quick(self):
        preset = os.path.join(self.tmp_dir, "tiny")
        PointNet(embedding_dim=16).save_to_preset(preset)
        output = os.path.join(self.tmp_dir, "label_efficiency.json")
        args = ["--quick", "--preset", preset, "--output", output, "--epochs", "1",
                "--runs-dir", os.path.join(self.tmp_dir, "runs")]  # fmt: skip
        # Random initialisation first, alone; the full run then adds the preset.
        label_efficiency.main(args + ["--starts", "random"])
        random_only = json.load(open(output))["runs"]
        self.assertEqual({r["start"] for r in random_only}, {"random"})
        self.assertEqual(len(random_only), 3)
        label_efficiency.main(args)
        record = json.load(open(output))
        for run in random_only:
            self.assertIn(run, record["runs"])
        # 20 %: two seeds, both starts; 100 %: the first seed only.
        keys = sorted((r["fraction"], r["start"], r["seed"]) for r in record["runs"])
        self.assertEqual(keys, [(0.2, "preset", 0), (0.2, "preset", 1), (0.2, "random", 0),
                                (0.2, "random", 1), (1.0, "preset", 0), (1.0, "random", 0)])  # fmt: skip
        runs = {(r["fraction"], r["start"], r["seed"]): r for r in record["runs"]}
        # Synthetic train: 6 classes x 10, 2 each held out: 48 to fit.
        self.assertEqual(record["validation"], {"num_fit": 48, "num_validation": 12})
        self.assertEqual(runs[(0.2, "preset", 0)]["num_labels"], 12)  # 2 of 8 per class
        self.assertEqual(runs[(1.0, "random", 0)]["num_labels"], 48)
        self.assertEqual(record["summary"]["20% preset"]["seeds"], [0, 1])
        self.assertAlmostEqual(
            record["summary"]["20% random"]["test_mean"],
            np.mean([runs[(0.2, "random", s)]["test_accuracy"] for s in (0, 1)]),
        )
        self.assertEqual(runs[(1.0, "random", 0)]["best_epoch"], 1)
        # Started again, the finished fine-tunings are kept, not redone; the
        # backups of the fine-tunings in progress are gone.
        label_efficiency.main(args)
        self.assertEqual(json.load(open(output))["runs"], record["runs"])
        # A run of one fraction and another seed keeps the others' fine-tunings.
        label_efficiency.main(args + ["--fractions", "0.2", "--seeds", "2"])
        grown = json.load(open(output))
        self.assertEqual(grown["runs"][: len(record["runs"])], record["runs"])
        added = sorted((r["fraction"], r["start"], r["seed"]) for r in grown["runs"][len(record["runs"]) :])
        self.assertEqual(added, [(0.2, "preset", 2), (0.2, "random", 2)])
        self.assertEqual(grown["summary"]["20% preset"]["seeds"], [0, 1, 2])
        self.assertIn("100% random", grown["summary"])
        self.assertEqual(os.listdir(os.path.join(self.tmp_dir, "runs", "label_efficiency_pointnet")), [])
        # Other settings are not mixed into the same table.
        with self.assertRaises(SystemExit):
            label_efficiency.main(args[:-2] + ["--epochs", "2"])

    def test_schedule(self):
        settings = {"epochs": 100, "max_steps": 2000, "validations": 25, "batch_size": 32}
        schedule = label_efficiency.schedule
        self.assertEqual(schedule(32, settings), (100, 4))  # 1 step an epoch
        self.assertEqual(schedule(319, settings), (100, 4))  # 9 steps
        self.assertEqual(schedule(3193, settings), (20, 1))  # 99 steps: 2000 // 99
        self.assertEqual(schedule(3193, {**settings, "max_steps": 5000}), (50, 2))
        self.assertEqual(schedule(10, {**settings, "epochs": 1}), (1, 1))

    def test_killed_fine_tuning_resumes_to_the_uninterrupted_result(self):
        train, test, _ = workflows.load_classification_data(None, num_per_class=10, num_points=64)
        split = evaluation.validation_split(train.labels)
        preset = os.path.join(self.tmp_dir, "tiny")
        PointNet(embedding_dim=16).save_to_preset(preset)
        settings = {**label_efficiency.QUICK, "epochs": 4, "validations": 2}  # epochs 2 and 4
        args = (preset, "preset", train, test, split, 1.0, 0, settings)
        uninterrupted = label_efficiency.fine_tune(*args, verbose=0)
        folder = os.path.join(self.tmp_dir, "run")
        with self.assertRaises(KeyboardInterrupt):
            label_efficiency.fine_tune(*args, folder, callbacks=[Kill(epoch=3)], verbose=0)
        self.assertTrue(os.path.exists(os.path.join(folder, "best", "best.json")))
        resumed = label_efficiency.fine_tune(*args, folder, verbose=0)
        minutes = [run.pop("minutes") for run in (resumed, uninterrupted)]
        self.assertGreater(min(minutes), 0)
        self.assertEqual(resumed, uninterrupted)
        self.assertEqual((resumed["epochs"], resumed["validation_freq"]), (4, 2))
        self.assertIn(resumed["best_epoch"], (2, 4))
        self.assertFalse(os.path.exists(folder))

    def test_plot(self):
        pytest.importorskip("matplotlib")
        summary = {"1% preset": {"test_mean": 50.0, "test_std": 2.0},
                   "1% random": {"test_mean": 40.0, "test_std": 3.0},
                   "100% preset": {"test_mean": 90.0, "test_std": 0.0}}  # fmt: skip
        path = os.path.join(self.tmp_dir, "label_efficiency.png")
        label_efficiency.plot(summary, path)
        with open(path, "rb") as file:
            self.assertEqual(file.read(8), b"\x89PNG\r\n\x1a\n")
