"""tools/reproduce.py (the resumable pre-training queue) and the `--ship`
step of tools/results.py, on tiny settings and files written by the test."""

import json
import os
import shutil
from unittest import mock

from keras_ttp import workflows
from keras_ttp.models import Backbone
from keras_ttp.models import PointNet
from keras_ttp.presets import registry
from tests.datasets.layouts import clouds
from tests.datasets.layouts import write_shapenet_ply
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase
from tools import reproduce
from tools import results

TINY = {
    "pointnet": {"batch_size": 4, "num_points": 32, "epochs": 1},
    "dgcnn": {"batch_size": 4, "num_points": 32, "epochs": 1},
}


class ReproduceTest(TestCase):
    def test_run_names(self):
        self.assertEqual(reproduce.parse_run("dgcnn_onebranch_seed1"), ("dgcnn", "onebranch", 1))
        self.assertIn("pointnet_ttp_seed0", reproduce.RUNS)
        with self.assertRaisesRegex(ValueError, "unknown run 'pointnet_best_seed0'"):
            reproduce.parse_run("pointnet_best_seed0")

    def write_data(self):
        data_dir = os.path.join(self.tmp_dir, "data")
        shapes = {"02691156": list(clouds(4, 48)), "02828884": list(clouds(4, 48, seed=1))}
        write_shapenet_ply(os.path.join(data_dir, "shapenet260"), shapes)
        return data_dir

    def test_run_then_ship(self):
        data_dir = self.write_data()
        runs_dir = os.path.join(self.tmp_dir, "runs")
        with mock.patch.dict(reproduce.SETTINGS, TINY):
            preset_dir = reproduce.run("pointnet_norecycling_seed0", data_dir, runs_dir)
            # A finished run is not run again.
            self.assertEqual(
                reproduce.run("pointnet_norecycling_seed0", data_dir, runs_dir), preset_dir
            )
        metadata = json.load(open(os.path.join(preset_dir, "metadata.json")))
        self.assertEqual(metadata["pretraining"]["pretrainer_arguments"], {"recycling": False})
        self.assertEqual(metadata["pretraining"]["epochs"], 1)
        self.assertTrue(os.path.exists(os.path.join(runs_dir, "pointnet_norecycling_seed0", "log.csv")))

        package_dir = registry.pathlib.Path(self.tmp_dir, "package")
        with mock.patch.object(registry, "PRESETS_DIR", package_dir):
            stored = {"svm": {"accuracy": 55.5}, "few-shot": {"5-way 10-shot": {"mean": 60.0, "std": 1.0}}}
            results.ship("pointnet_norecycling_seed0", stored, runs_dir, "test data")
            backbone = Backbone.from_preset("ttp_shapenet_pointnet")
            with self.assertRaises(FileExistsError):  # never replaced without asking
                results.ship("pointnet_norecycling_seed0", stored, runs_dir, "test data")
        self.assertEqual(type(backbone).__name__, "PointNet")
        shipped = json.load(open(package_dir / "ttp_shapenet_pointnet" / "metadata.json"))
        self.assertEqual(shipped["evaluation"]["linear_svm_accuracy"], 55.5)
        card = (package_dir / "ttp_shapenet_pointnet" / "README.md").read_text()
        self.assertIn("55.50", card)

    def test_run_killed_after_its_last_epoch_finishes_from_its_last_snapshot(self):
        data_dir, runs_dir = self.write_data(), os.path.join(self.tmp_dir, "runs")
        folder = os.path.join(runs_dir, "pointnet_ttp_seed0")
        with mock.patch.dict(reproduce.SETTINGS, TINY):
            preset_dir = reproduce.run("pointnet_ttp_seed0", data_dir, runs_dir)
            trained = Backbone.from_preset(preset_dir).get_weights()
            # Killed once `fit` had removed the backup, before the preset was written.
            shutil.rmtree(preset_dir)
            self.assertFalse(os.path.exists(os.path.join(folder, "backup")))
            log = open(os.path.join(folder, "log.csv")).read()
            with mock.patch.object(workflows, "pretrain_backbone") as pretrain:
                self.assertEqual(reproduce.run("pointnet_ttp_seed0", data_dir, runs_dir), preset_dir)
        pretrain.assert_not_called()
        self.assertEqual(open(os.path.join(folder, "log.csv")).read(), log)
        self.assertAllClose(Backbone.from_preset(preset_dir).get_weights(), trained, atol=0, rtol=0)
        metadata = json.load(open(os.path.join(preset_dir, "metadata.json")))["pretraining"]
        self.assertEqual(set(metadata["final_losses"]), {"loss", "cross_branch_loss",
                         "intra_branch_1_loss", "intra_branch_2_loss"})  # fmt: skip
        self.assertFalse(os.path.exists(preset_dir + ".partial"))


class ShipSnapshotTest(TestCase):
    def test_ship_the_snapshot_chosen_on_validation(self):
        runs_dir = os.path.join(self.tmp_dir, "runs")
        run = "pointnet_ttp_seed0"
        snapshots = {}
        for epoch in (25, 50):
            snapshots[epoch] = os.path.join(runs_dir, run, "snapshots", f"epoch_{epoch:04d}")
            PointNet(embedding_dim=16).save_to_preset(snapshots[epoch], metadata={
                "pretraining": {"variant": "ttp", "seed": 0, "epochs": 800, "epoch": epoch}
            })  # fmt: skip
        self.assertEqual(results.run_preset(f"{run}@50", runs_dir), snapshots[50])
        # A seed-0 snapshot is evaluated like its run: few-shot included.
        for name in (run, f"{run}@50", "dgcnn_random_seed0"):
            self.assertEqual(results.model_protocols(name, results.PROTOCOLS), list(results.PROTOCOLS))
        for name in ("pointnet_ttp_seed1@50", "pointnet_random_seed1"):
            self.assertEqual(results.model_protocols(name, results.PROTOCOLS), ["svm", "svm-validated-c"])
        curves_dir = os.path.join(self.tmp_dir, "curves")
        curve_path = os.path.join(curves_dir, f"learning_curve_{run}.json")
        self.assertEqual(results.chosen_snapshot(run, curves_dir), (None, None))
        curve = {
            "run": run, "select": "svm_fair", "validation": {"fraction": 0.2}, "chosen_epoch": 50,
            "snapshots": {"25": {"svm_c0.1": 80.0, "svm_fair": {"accuracy": 81.0, "C": 0.01}},
                          "50": {"svm_c0.1": 82.0, "svm_fair": {"accuracy": 83.0, "C": 0.1}}},
        }  # fmt: skip
        workflows.write_json(curve_path, curve)
        with self.assertRaisesRegex(ValueError, "--score-test"):  # chosen, not yet scored
            results.chosen_snapshot(run, curves_dir)
        rotated = {"clean": 85.0, "rotated": 70.0, "512 points": 84.0, "jitter 0.01": 85.5}
        curve["note"] = "a note on the run"
        curve["test"] = {"epoch": 50, "svm_c0.1": 85.0, "svm_fair": {"accuracy": 86.0, "C": 0.1},
                         "robustness_c0.1": rotated}  # fmt: skip
        workflows.write_json(curve_path, curve)
        epoch, curve = results.chosen_snapshot(run, curves_dir)
        self.assertEqual(epoch, 50)

        stored = {"svm": {"accuracy": 85.0}, "few-shot": {"10-way 10-shot": {"mean": 70.0, "std": 2.0}}}
        label_efficiency = {"10% preset": {"test_mean": 60.0, "test_std": 1.5, "seeds": [0, 1, 2]},
                            "100% preset": {"test_mean": 80.0, "test_std": 0.0, "seeds": [0]}}  # fmt: skip
        package_dir = registry.pathlib.Path(self.tmp_dir, "package")
        with mock.patch.object(registry, "PRESETS_DIR", package_dir):
            self.assertIsNone(results.run_preset(run, runs_dir))  # no final preset yet
            with self.assertRaisesRegex(ValueError, "not the snapshot that validation chose"):
                results.ship(f"{run}@25", stored, runs_dir, "test data", curve=curve)
            results.ship(f"{run}@50", stored, runs_dir, "test data", curve=curve,
                         label_efficiency=label_efficiency)  # fmt: skip
            shipped_dir = package_dir / "ttp_shapenet_pointnet"
            backbone = Backbone.from_preset("ttp_shapenet_pointnet")
            # Once the run's folder is gone, the package's preset stands in
            # for that snapshot (and only for it).
            os.rename(runs_dir, runs_dir + ".gone")
            self.assertEqual(results.run_preset(f"{run}@50", runs_dir), str(shipped_dir))
            self.assertIsNone(results.run_preset(f"{run}@25", runs_dir))
            self.assertIn(f"{run}@50", results.all_models(runs_dir))
            self.assertNotIn(run, results.all_models(runs_dir))
            # Label efficiency measured on the shipped preset (by name or
            # folder) or on the run's snapshot belongs to that snapshot.
            for preset in ("ttp_shapenet_pointnet", str(shipped_dir)):
                results.check_fine_tuned({"preset": preset}, f"{run}@50", runs_dir)
            os.rename(runs_dir + ".gone", runs_dir)
            results.check_fine_tuned({"preset": snapshots[50]}, f"{run}@50", runs_dir)
            for preset, model in ((snapshots[25], f"{run}@50"), ("ttp_shapenet_pointnet", f"{run}@25")):
                with self.assertRaisesRegex(ValueError, "fine-tuned"):
                    results.check_fine_tuned({"preset": preset}, model, runs_dir)
            os.rename(runs_dir, runs_dir + ".gone")
        chosen = Backbone.from_preset(snapshots[50].replace(runs_dir, runs_dir + ".gone"))
        for shipped_weight, chosen_weight in zip(backbone.weights, chosen.weights):
            self.assertAllClose(shipped_weight, chosen_weight, atol=0, rtol=0)
        metadata = json.load(open(shipped_dir / "metadata.json"))
        self.assertEqual(metadata["pretraining"]["epoch"], 50)
        recorded = metadata["evaluation"]
        self.assertEqual(recorded["linear_svm_accuracy"], 85.0)
        self.assertEqual(recorded["chosen_epoch"], 50)
        self.assertEqual(recorded["validation"], {"svm_c0.1": 82.0, "svm_fair": 83.0})
        self.assertEqual(recorded["linear_svm_fair"]["accuracy"], 86.0)
        self.assertEqual(recorded["robustness_c0.1"], rotated)
        self.assertEqual(recorded["label_efficiency"], label_efficiency)
        card = (shipped_dir / "README.md").read_text()
        for text in ("85.00", "86.00 (C = 0.1)", "epoch 50, chosen on validation", "25, 50; a note on the run",
                     "50 epochs of the paper's 800-epoch schedule", "rotated (%)",
                     "10% of the labels, from preset (%): 60.00 +- 1.50",
                     "100% of the labels, from preset (%): 80.00 (one seed: 0)"):  # fmt: skip
            self.assertIn(text, card)
        self.assertNotIn("+- 0.00", card)  # one seed has no spread to show


class StoredResultsTest(TestCase):
    def test_probe_arguments(self):
        arguments = {p: reproduce.variant_arguments(p, seed=3) for p in reproduce.PROBES}
        augmentation = arguments["authorsaxis"][1]["augmentation"]
        self.assertEqual((augmentation.rotation_axis, augmentation.seed), (2, 3))
        self.assertEqual(augmentation.name, "augmentation")  # ToThePoint's own
        self.assertEqual(
            arguments["ftreg"], ({"feature_transform_regularization": 1e-3}, {})
        )
        self.assertEqual(arguments["persample"], ({}, {"per_sample_rank": True}))
        self.assertEqual(arguments["temperature05"], ({}, {"temperature": 0.5}))
        for probe in reproduce.PROBES:
            reproduce.parse_run(f"pointnet_{probe}_seed0")
            self.assertNotIn(f"pointnet_{probe}_seed0", reproduce.RUNS)

    def test_tables_read_every_stored_result_in_run_order(self):
        results_dir = os.path.join(self.tmp_dir, "results")
        stored = {
            "dgcnn_ttp_seed0_svm": {"accuracy": 90.0},
            "pointnet_random_seed1_svm": {"accuracy": 40.0},
            "pointnet_onebranch_seed0_svm-validated-c": {"accuracy": 80.0, "C": 1.0},
            "not_a_model_svm": {"accuracy": 1.0},
        }
        for stem, result in stored.items():
            workflows.write_json(os.path.join(results_dir, f"{stem}.json"), result)
        found = results.stored_results(results_dir)
        self.assertEqual(
            list(found), ["pointnet_random_seed1", "dgcnn_ttp_seed0", "pointnet_onebranch_seed0"]
        )
        self.assertEqual(found["pointnet_onebranch_seed0"]["svm-validated-c"]["C"], 1.0)
        self.assertEqual(results.stored_results(os.path.join(self.tmp_dir, "none")), {})

    def test_results_md_svm_table_matches_the_stored_results(self):
        """Every number of RESULTS.md's linear-SVM table is the mean (+- std)
        of the result files kept in docs/results, and every such file is in
        the table."""
        stored = results.stored_results(REPO_ROOT / "docs" / "results")
        rows = {}
        for line in open(REPO_ROOT / "RESULTS.md"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) == 4 and cells[0] in ("PointNet", "DGCNN"):
                rows[(cells[0].lower(), cells[1])] = cells[2:]
        labels = {
            "random": "random init", "ttp": "ToThePoint",
            "norecycling": "two branches, no recycling", "onebranch": "one branch with recycling",
        }  # fmt: skip
        checked = 0
        for (backbone, variant), cells in results.svm_table(stored).items():
            for column, computed in enumerate(cells):
                if computed == results.mean_std([]):  # no seed of this cell stored
                    continue
                expected, count = computed.removesuffix(")").split(" (n=")
                cell = rows[(backbone, labels[variant])][column]
                self.assertTrue(
                    cell.lstrip("*").startswith(expected), (backbone, variant, cell, expected)
                )
                self.assertIn(f"n={count}", cell)
                checked += int(count)
        # Every stored SVM result is counted in one cell of the table.
        svm_results = [p for r in stored.values() for p in r if p.startswith("svm")]
        self.assertEqual(checked, len(svm_results))
        self.assertGreaterEqual(checked, 24)

    def test_shipped_runs_are_found_without_their_run_folder(self):
        runs_dir = os.path.join(self.tmp_dir, "runs")
        for name, entry in registry.PRESETS.items():
            folder = registry.PRESETS_DIR / entry["path"]
            if not folder.is_dir():
                continue
            pretraining = json.load(open(folder / "metadata.json"))["pretraining"]
            run = f"{pretraining['backbone']}_{pretraining['variant']}_seed{pretraining['seed']}"
            # A shipped snapshot is `<run>@<epoch>`, a shipped final preset `<run>`.
            model = f"{run}@{pretraining['epoch']}" if "epoch" in pretraining else run
            self.assertEqual(results.shipped_preset(run), (str(folder), model))
            self.assertEqual(results.run_preset(model, runs_dir), str(folder))
            other = f"{pretraining['backbone']}_{pretraining['variant']}_seed{pretraining['seed'] + 1}"
            self.assertIsNone(results.run_preset(other, runs_dir))
            self.assertIn(model, results.all_models(runs_dir))
