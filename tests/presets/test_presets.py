import os
import shutil
from unittest import mock

import keras
import numpy as np

from keras_ttp.models import DGCNN
from keras_ttp.models import Backbone
from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointCloudSegmenter
from keras_ttp.models import PointNet
from keras_ttp.models import Task
from keras_ttp.presets import list_presets
from keras_ttp.presets import preset_utils
from keras_ttp.presets import registry
from tests.presets.helpers import fill_hf_cache
from tests.presets.helpers import offline_hub
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points


def small_dgcnn():
    return DGCNN(k=8, edge_filters=(8, 16), embedding_dim=32)


def small_classifier(num_classes=4):
    classifier = PointCloudClassifier(
        PointNet(embedding_dim=32), num_classes=num_classes, hidden_dims=(16,)
    )
    perturb_weights(classifier)
    return classifier


def global_features(backbone, points):
    return backbone(points)["global_features"]


class BackbonePresetTest(TestCase):
    def test_pointnet_round_trip(self):
        backbone = PointNet(embedding_dim=32)
        perturb_weights(backbone)
        self.run_preset_test(backbone, random_points(2, 32))

    def test_dgcnn_round_trip_and_loading_options(self):
        backbone = small_dgcnn()
        perturb_weights(backbone)
        points = random_points(2, 32)
        self.run_preset_test(backbone, points)
        preset_dir = os.path.join(self.tmp_dir, "preset")
        restored = Backbone.from_preset(preset_dir)
        self.assertIs(type(restored), DGCNN)
        self.assertAllClose(restored(points), backbone(points), atol=1e-5)
        fresh = DGCNN.from_preset(preset_dir, load_weights=False, embedding_dim=16)
        self.assertEqual(fresh(points)["global_features"].shape, (2, 16))

    def test_model_card_and_metadata(self):
        preset_dir = os.path.join(self.tmp_dir, "preset")
        PointNet(embedding_dim=32).save_to_preset(
            preset_dir,
            metadata={"epochs": 3},
            model_card={
                "data": "ShapeNet-260",
                "metrics": {"ModelNet10 SVM accuracy (%)": 12.5},
                "handle": "hf://me/pointnet",
            },
        )
        with open(os.path.join(preset_dir, "README.md")) as file:
            card = file.read()
        for text in (
            "library_name: keras",
            "## Training data\n\nShapeNet-260",
            "- ModelNet10 SVM accuracy (%): 12.5",
            'PointNet.from_preset("hf://me/pointnet")',
            "- epochs: 3",
            f"- backend: {keras.backend.backend()}",
            "@inproceedings{li2023tothepoint",
        ):
            self.assertIn(text, card)
        metadata = preset_utils.load_json(preset_dir, "metadata.json")
        self.assertEqual(metadata["keras_version"], keras.__version__)
        self.assertEqual(metadata["class_name"], "PointNet")


class TaskPresetTest(TestCase):
    def test_task_round_trip_restores_the_head(self):
        self.run_preset_test(small_classifier(), random_points(2, 32))

    def test_new_head_around_the_saved_backbone(self):
        classifier = small_classifier()
        preset_dir = os.path.join(self.tmp_dir, "preset")
        classifier.save_to_preset(preset_dir)
        points = random_points(2, 32)
        expected = global_features(classifier.backbone, points)
        new = PointCloudClassifier.from_preset(preset_dir, num_classes=4)
        self.assertEqual(new.hidden_dims, (16,))
        self.assertAllClose(global_features(new.backbone, points), expected)
        saved_kernel, new_kernel = (
            keras.ops.convert_to_numpy(task.head.get_layer("logits").kernel)
            for task in (classifier, new)
        )
        self.assertFalse(np.allclose(saved_kernel, new_kernel))
        segmenter = PointCloudSegmenter.from_preset(
            preset_dir, num_parts=6, num_categories=2, hidden_dims=(8,)
        )
        self.assertAllClose(global_features(segmenter.backbone, points), expected)

    def test_task_from_backbone_preset(self):
        backbone = small_dgcnn()
        perturb_weights(backbone)
        preset_dir = os.path.join(self.tmp_dir, "preset")
        small_classifier().save_to_preset(preset_dir)
        with self.assertRaisesRegex(FileExistsError, "overwrite=True"):
            backbone.save_to_preset(preset_dir)
        backbone.save_to_preset(preset_dir, overwrite=True)  # replaces the task
        self.assertFalse(os.path.exists(os.path.join(preset_dir, "task.json")))
        classifier = PointCloudClassifier.from_preset(preset_dir, num_classes=3)
        points = random_points(2, 32)
        self.assertEqual(classifier(points).shape, (2, 3))
        self.assertAllClose(
            global_features(classifier.backbone, points),
            global_features(backbone, points),
        )


class PresetErrorTest(TestCase):
    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        backbone = PointNet(embedding_dim=16, input_transform=False)
        backbone.save_to_preset(self.preset_dir)

    def path(self, filename):
        return os.path.join(self.preset_dir, filename)

    def test_missing_files(self):
        for filename in ("config.json", "model.weights.h5"):
            with self.subTest(filename):
                shutil.copy(self.path(filename), self.path("kept"))
                os.remove(self.path(filename))
                message = f"incomplete: {filename} is missing"
                with self.assertRaisesRegex(ValueError, message):
                    PointNet.from_preset(self.preset_dir)
                os.replace(self.path("kept"), self.path(filename))

    def test_corrupted_config(self):
        with open(self.path("config.json"), "w") as file:
            file.write('{"class_name": "PointNet", ')
        with self.assertRaisesRegex(ValueError, "config.json is corrupted, not valid"):
            PointNet.from_preset(self.preset_dir)
        preset_utils.save_json(
            self.preset_dir,
            "config.json",
            keras.saving.serialize_keras_object(keras.layers.Dense(3)),
        )
        with self.assertRaisesRegex(
            ValueError, "config.json does not describe a keras_ttp Backbone .*'Dense'"
        ):
            Backbone.from_preset(self.preset_dir)

    def test_truncated_weights(self):
        size = os.path.getsize(self.path("model.weights.h5"))
        with open(self.path("model.weights.h5"), "r+b") as file:
            file.truncate(size // 2)
        with self.assertRaisesRegex(ValueError, "model.weights.h5 does not match"):
            PointNet.from_preset(self.preset_dir)
        with self.assertRaisesRegex(
            ValueError, "model.weights.h5 of preset .* into point_net.*truncated"
        ):
            PointNet.from_preset(self.preset_dir, verify_hashes=False)

    def test_wrong_backbone_class(self):
        with self.assertRaisesRegex(
            ValueError, "holds a PointNet, not a DGCNN: load it with `PointNet"
        ):
            DGCNN.from_preset(self.preset_dir)

    def test_task_from_a_preset_without_task(self):
        with self.assertRaisesRegex(ValueError, "holds no task"):
            Task.from_preset(self.preset_dir)

    def test_task_without_head_weights(self):
        small_classifier().save_to_preset(self.preset_dir, overwrite=True)
        os.remove(self.path("task.weights.h5"))
        with self.assertRaisesRegex(ValueError, "task.weights.h5 is missing"):
            PointCloudClassifier.from_preset(self.preset_dir)

    def test_unknown_and_ambiguous_names(self):
        with self.assertRaisesRegex(ValueError, "Unknown preset 'no_such'.*ttp_"):
            PointNet.from_preset("no_such")
        family = {
            f"other_{name.lower()}": dict(registry.PRESETS[f"ttp_shapenet_{name.lower()}"])
            for name in ("PointNet", "DGCNN")
        }
        with mock.patch.dict(registry.PRESETS, family):
            with self.assertRaisesRegex(ValueError, "'other' names one preset per"):
                Backbone.from_preset("other")
        with self.assertRaisesRegex(ValueError, "holds a PointNet backbone, not a"):
            DGCNN.from_preset("ttp_shapenet_pointnet")
        with self.assertRaisesRegex(ValueError, "hf://owner/name"):
            PointNet.from_preset("hf://no-owner")


class RegistryTest(TestCase):
    def test_list_presets(self):
        names = ["ttp_shapenet_dgcnn", "ttp_shapenet_pointnet"]
        self.assertEqual(sorted(list_presets()), names)
        self.assertEqual(list(PointNet.presets), ["ttp_shapenet_pointnet"])
        self.assertEqual(list(DGCNN.presets), ["ttp_shapenet_dgcnn"])
        self.assertEqual(Backbone.presets, PointCloudClassifier.presets)
        entry = list_presets()["ttp_shapenet_dgcnn"]
        self.assertEqual(
            entry["hf_handle"], "hf://keras-ttp/ttp_shapenet_dgcnn@v0.1.0"
        )
        self.assertIn("DGCNN", entry["description"])

    def test_registered_handles_name_a_revision(self):
        for name, entry in list_presets().items():
            with self.subTest(name):
                _, revision = preset_utils.parse_hf_handle(entry["hf_handle"])
                self.assertEqual(revision, registry.RELEASE)


class HuggingFacePresetTest(TestCase):
    def setUp(self):
        super().setUp()
        self.cache_dir = os.path.join(self.tmp_dir, "hf_cache")
        self.enterContext(offline_hub(self.cache_dir))
        self.backbone = PointNet(embedding_dim=16)
        perturb_weights(self.backbone)
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        self.backbone.save_to_preset(self.preset_dir)
        self.points = random_points(2, 32)

    def assertLoadsBackbone(self, preset):
        restored = PointNet.from_preset(preset)
        expected = self.backbone(self.points)
        self.assertAllClose(restored(self.points), expected, atol=1e-5)

    def test_hf_handle_from_offline_cache(self):
        commit = fill_hf_cache(self.cache_dir, "owner/pointnet", self.preset_dir)
        self.assertLoadsBackbone("hf://owner/pointnet")
        snapshot = preset_utils.get_preset_dir(f"hf://owner/pointnet@{commit}")
        self.assertTrue(snapshot.startswith(self.cache_dir), snapshot)
        with self.assertRaisesRegex(FileNotFoundError, "hf://owner/absent.*hf_cache"):
            PointNet.from_preset("hf://owner/absent")

    def test_registered_preset_shipped_or_from_the_hub(self):
        entry = {
            "description": "test",
            "backbone": "PointNet",
            "path": "preset",
            "hf_handle": "hf://owner/pointnet",
        }
        self.enterContext(mock.patch.dict(registry.PRESETS, {"test_pointnet": entry}))
        shipped_root = registry.pathlib.Path(self.tmp_dir)
        with mock.patch.object(registry, "PRESETS_DIR", shipped_root):
            self.assertLoadsBackbone("test")
        fill_hf_cache(self.cache_dir, "owner/pointnet", self.preset_dir)
        self.assertLoadsBackbone("test_pointnet")

    def test_registered_preset_not_available(self):
        # A package folder without the shipped presets, an empty hub cache.
        empty_root = registry.pathlib.Path(self.tmp_dir)
        self.enterContext(mock.patch.object(registry, "PRESETS_DIR", empty_root))
        shipped = empty_root / "ttp_shapenet_pointnet"
        with self.assertRaises(FileNotFoundError) as context:
            PointNet.from_preset("ttp_shapenet")
        message = str(context.exception)
        for text in (
            "'ttp_shapenet_pointnet'",
            "registered but not available",
            str(shipped),
            "hf://keras-ttp/ttp_shapenet_pointnet",
            self.cache_dir,
            "save_to_preset",
        ):
            self.assertIn(text, message)


class DevelopersUsageTest(TestCase):
    def test_usage_lines_run_as_written(self):
        """DEVELOPERS.md's usage, against `ttp_shapenet` presets that this
        test saves where the package ships them."""
        import keras_ttp

        shipped_root = os.path.join(self.tmp_dir, "shipped")
        small_dgcnn().save_to_preset(os.path.join(shipped_root, "ttp_shapenet_dgcnn"))
        PointNet(embedding_dim=32).save_to_preset(
            os.path.join(shipped_root, "ttp_shapenet_pointnet")
        )
        train_points = random_points(8, 32)
        train_labels = np.arange(8) % 10
        unlabelled_points = random_points(8, 32, seed=1)
        with mock.patch.object(registry, "PRESETS_DIR", registry.pathlib.Path(shipped_root)):
            encoder = keras_ttp.models.DGCNN.from_preset("ttp_shapenet")     # pretrained backbone
            clf = keras_ttp.models.PointCloudClassifier.from_preset("ttp_shapenet", num_classes=10)
            self.assertAllClose(
                global_features(clf.backbone, train_points),
                global_features(encoder, train_points),
            )
            clf.fit(train_points, train_labels, verbose=0)                  # or a segmenter
            pretrainer = keras_ttp.models.ToThePoint(backbone=keras_ttp.models.PointNet())
            pretrainer.compile(optimizer="adam"); pretrainer.fit(unlabelled_points, epochs=1, verbose=0)  # noqa: E702
        self.assertIsInstance(encoder, DGCNN)
        self.assertIsInstance(clf.backbone, DGCNN)
        self.assertEqual(clf.output.shape, (None, 10))
