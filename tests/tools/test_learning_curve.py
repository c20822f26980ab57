"""tools/learning_curve.py end to end, on two tiny snapshots and a tiny
ModelNet-like h5 folder written by the test."""

import csv
import json
import os
from unittest import mock

import numpy as np
import pytest

from keras_ttp import evaluation
from keras_ttp.models import PointNet
from tests.datasets.layouts import clouds
from tests.datasets.layouts import write_modelnet_h5
from tests.test_case import TestCase
from tools import learning_curve

CLASSES = ["bathtub", "bed", "chair"]


def write_fake_modelnet(root, num_train=60, num_test=18, num_points=64):
    """Three classes of clouds stretched along a different axis each, in
    the real layout (two train chunks, one test chunk)."""
    def chunk(num, seed):
        labels = np.arange(num) % 3
        points = clouds(num, num_points, seed) * 0.2
        points[np.arange(num), :, labels] *= 4.0
        return points.astype("float32"), labels

    train = [chunk(num_train // 2, 1), chunk(num_train // 2, 2)]
    write_modelnet_h5(os.path.join(root, "modelnet10_ply_hdf5_2048"),
                      {"train": train, "test": [chunk(num_test, 3)]}, CLASSES)  # fmt: skip


def write_fake_run(run_dir, epochs=(25, 50)):
    for seed, epoch in enumerate(epochs):
        import keras

        keras.utils.set_random_seed(seed)
        PointNet(embedding_dim=16).save_to_preset(
            os.path.join(run_dir, "snapshots", f"epoch_{epoch:04d}")
        )
    os.makedirs(os.path.join(run_dir, "snapshots", "epoch_0100.partial"))  # being written
    with open(os.path.join(run_dir, "log.csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", "cross_branch_loss", "intra_branch_1_loss", "intra_branch_2_loss", "loss", "seconds"])
        for epoch in range(max(epochs)):
            writer.writerow([epoch, 5 - epoch / 20, 2, 1.5, 8.5 - epoch / 20, 10.0])


class LearningCurveTest(TestCase):
    def setUp(self):
        super().setUp()
        self.embed_without_xla()

    def test_end_to_end(self):
        data_dir = os.path.join(self.tmp_dir, "data")
        run_dir = os.path.join(self.tmp_dir, "runs", "pointnet_ttp_seed0")
        results_dir = os.path.join(self.tmp_dir, "results")
        write_fake_modelnet(data_dir)
        write_fake_run(run_dir)
        args = ["--data-dir", data_dir, "--runs", run_dir, "--results-dir", results_dir]
        snapshot_25 = os.path.join(run_dir, "snapshots", "epoch_0025")
        learning_curve.main([*args, "--robustness"])
        learning_curve.main([*args, "--models", snapshot_25])  # snapshots: not again

        path = os.path.join(results_dir, "learning_curve_pointnet_ttp_seed0.json")
        curve = json.load(open(path))
        self.assertEqual(list(curve["snapshots"]), ["25", "50"])
        self.assertEqual(curve["validation"]["num_validation"], 12)  # 20 % of 20 per class
        snapshot = curve["snapshots"]["25"]
        self.assertIn(snapshot["svm_fair"]["C"], evaluation.C_GRID)
        self.assertEqual(set(snapshot["robustness_c0.1"]), {"clean", "rotated", "32 points", "jitter 0.01"})
        self.assertEqual(snapshot["robustness_c0.1"]["clean"], snapshot["svm_c0.1"])
        best = max((accuracy["svm_fair"]["accuracy"], -int(e)) for e, accuracy in curve["snapshots"].items())
        self.assertEqual(curve["chosen_epoch"], -best[1])
        self.assertNotIn("test", curve)  # selection never scores the test split
        baseline = json.load(open(os.path.join(results_dir, "validation_epoch_0025.json")))
        self.assertEqual(baseline["svm_fair"], snapshot["svm_fair"])  # the same code path

        # The validation scores match the evaluation functions by hand.
        train, _, _, (fit, validation) = learning_curve.load_data(data_dir)
        backbone = PointNet.from_preset(os.path.join(run_dir, "snapshots", "epoch_0050"))
        features = evaluation.extract_embeddings(backbone, train.points, verbose=0)
        expected = evaluation.linear_svm_accuracy(
            features[fit], train.labels[fit], features[validation], train.labels[validation]
        )
        self.assertAlmostEqual(curve["snapshots"]["50"]["svm_c0.1"], expected, places=4)

        spies = [
            mock.patch.object(module, "extract_embeddings", wraps=evaluation.extract_embeddings)
            for module in (evaluation, evaluation.robustness)
        ]
        with spies[0] as embed, spies[1] as embed_corrupted:
            learning_curve.main([*args, "--score-test", "--robustness", "--batch-size", "5"])
        calls = embed.call_args_list + embed_corrupted.call_args_list
        self.assertEqual(len(calls), 4)  # train, test, the 1024- and the 512-point corrupted sets
        self.assertEqual({c.args[2] for c in calls}, {5})
        tested = json.load(open(path))["test"]
        self.assertIn("robustness_c0.1", tested)
        self.assertEqual(tested["epoch"], curve["chosen_epoch"])
        self.assertIn("svm_fair", tested)
        with self.assertRaisesRegex(FileExistsError, "scored once"):
            learning_curve.main([*args, "--score-test"])

    def test_models_score_the_test_split_once(self):
        data_dir = os.path.join(self.tmp_dir, "data")
        run_dir = os.path.join(self.tmp_dir, "runs", "pointnet_ttp_seed0")
        results_dir = os.path.join(self.tmp_dir, "results")
        write_fake_modelnet(data_dir)
        write_fake_run(run_dir, epochs=(25,))
        model = os.path.join(run_dir, "snapshots", "epoch_0025")
        args = ["--data-dir", data_dir, "--results-dir", results_dir, "--score-test", "--models", model]
        learning_curve.main(args)

        tested = json.load(open(os.path.join(results_dir, "test_epoch_0025.json")))
        self.assertEqual(tested["fit_on"], "the whole train split")
        train, test, _, _ = learning_curve.load_data(data_dir)
        features = [evaluation.extract_embeddings(PointNet.from_preset(model), d.points, verbose=0)
                    for d in (train, test)]  # fmt: skip
        expected = evaluation.fair_svm_accuracy(features[0], train.labels, features[1], test.labels)
        self.assertAlmostEqual(tested["svm_fair"]["accuracy"], expected["accuracy"], places=4)
        self.assertEqual(tested["svm_fair"]["C"], expected["C"])
        self.assertAlmostEqual(
            tested["svm_c0.1"],
            evaluation.linear_svm_accuracy(features[0], train.labels, features[1], test.labels),
            places=4,
        )
        with self.assertRaisesRegex(FileExistsError, "scored once"):
            learning_curve.main(args)
        self.assertEqual(os.listdir(results_dir), ["test_epoch_0025.json"])  # no validation scores

    def test_plot(self):
        pytest.importorskip("matplotlib")
        run_dir = os.path.join(self.tmp_dir, "pointnet_ttp_seed0")
        write_fake_run(run_dir, epochs=(25,))
        curve = {"run": "pointnet_ttp_seed0", "chosen_epoch": 25, "snapshots": {
            "25": {"svm_c0.1": 80.0, "svm_fair": {"accuracy": 82.0}, "robustness_c0.1": {"rotated": 50.0}},
        }}  # fmt: skip
        path = os.path.join(self.tmp_dir, "curve.png")
        results_dir = os.path.join(self.tmp_dir, "results")
        for seed, accuracy in enumerate((70.0, 72.0)):
            learning_curve.workflows.write_json(
                os.path.join(results_dir, f"validation_pointnet_random_seed{seed}.json"),
                {"svm_fair": {"accuracy": accuracy}},
            )
        self.assertEqual(learning_curve.random_init_scores(results_dir, "pointnet"), [70.0, 72.0])
        self.assertEqual(learning_curve.random_init_scores(results_dir, "dgcnn"), [])
        learning_curve.plot([curve, curve], [run_dir, run_dir], path, results_dir)
        with open(path, "rb") as file:
            self.assertEqual(file.read(8), b"\x89PNG\r\n\x1a\n")

    def test_compare_plot(self):
        pytest.importorskip("matplotlib")
        paths = []
        for run, rotated in (("pointnet_ttp_seed0", 50.0), ("pointnet_ftreg_seed0", None)):
            snapshot = {"svm_c0.1": 80.0, "svm_fair": {"accuracy": 82.0}}
            if rotated:
                snapshot["robustness_c0.1"] = {"rotated": rotated}
            paths.append(os.path.join(self.tmp_dir, f"learning_curve_{run}.json"))
            learning_curve.workflows.write_json(
                paths[-1], {"run": run, "snapshots": {"25": snapshot, "50": snapshot}}
            )
        path = os.path.join(self.tmp_dir, "variants.png")
        learning_curve.main(["--compare", *paths, "--plot", path])  # no data needed
        with open(path, "rb") as file:
            self.assertEqual(file.read(8), b"\x89PNG\r\n\x1a\n")
        with self.assertRaises(SystemExit):  # a comparison is a plot
            learning_curve.main(["--compare", *paths])

    def test_compare_labels_tell_a_remade_run_by_its_folder(self):
        curves = [{"run": "dgcnn_ttp_seed0"}, {"run": "dgcnn_ttp_seed0"}, {"run": "dgcnn_norecycling_seed0"}]
        paths = ["docs/results/learning_curve_dgcnn_ttp_seed0.json",
                 "docs/results/remade/learning_curve_dgcnn_ttp_seed0.json",
                 "docs/results/probes/learning_curve_dgcnn_norecycling_seed0.json"]  # fmt: skip
        self.assertEqual(
            learning_curve.curve_labels(curves, paths),
            ["dgcnn_ttp_seed0 (results)", "dgcnn_ttp_seed0 (remade)", "dgcnn_norecycling_seed0"],
        )

    def test_choose_earliest_best(self):
        snapshots = {"25": {"svm_fair": {"accuracy": 90.0}}, "50": {"svm_fair": {"accuracy": 91.0}},
                     "100": {"svm_fair": {"accuracy": 91.0}}}  # fmt: skip
        self.assertEqual(learning_curve.choose(snapshots, "svm_fair"), 50)
        self.assertIsNone(learning_curve.choose({}, "svm_fair"))


class PresetPolicyTest(TestCase):
    def test_dtype_policy_replaces_the_presets_own(self):
        preset = os.path.join(self.tmp_dir, "bf16")
        PointNet(embedding_dim=32, dtype="mixed_bfloat16").save_to_preset(preset)
        self.assertEqual(learning_curve.load_preset(preset).dtype_policy.name, "mixed_bfloat16")
        with mock.patch.dict(learning_curve.PRESET_ARGUMENTS, {"dtype": "float32"}):
            self.assertEqual(learning_curve.load_preset(preset).dtype_policy.name, "float32")
