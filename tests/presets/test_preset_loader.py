"""`PresetLoader`: one resolution and one read per file, backbone versus task,
the classes in a config checked before anything is built, complete errors."""

import collections
import os
from unittest import mock

import keras

from keras_ttp.models import Backbone
from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointCloudSegmenter
from keras_ttp.models import PointNet
from keras_ttp.models import Task
from keras_ttp.presets import PresetLoader
from keras_ttp.presets import preset_loader
from keras_ttp.presets import preset_utils
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points


def small_pointnet():
    return PointNet(embedding_dim=16, input_transform=False)


def small_classifier():
    classifier = PointCloudClassifier(small_pointnet(), num_classes=3, hidden_dims=(8,))
    perturb_weights(classifier)
    return classifier


class CountingFiles:
    """Counts the preset resolutions and the JSON reads of each file."""

    def __init__(self, test):
        self.resolved = 0
        self.reads = collections.Counter()
        get_preset_dir, load_json = preset_utils.get_preset_dir, preset_utils.load_json

        def resolve(*args, **kwargs):
            self.resolved += 1
            return get_preset_dir(*args, **kwargs)

        def read(preset_dir, filename):
            self.reads[filename] += 1
            return load_json(preset_dir, filename)

        for module in (preset_utils, preset_loader):
            for name, function in (("get_preset_dir", resolve), ("load_json", read)):
                if hasattr(module, name):
                    test.enterContext(mock.patch.object(module, name, function))


class PresetLoaderTest(TestCase):
    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        self.points = random_points(2, 16)

    def test_a_task_preset_is_resolved_once_and_each_file_read_once(self):
        classifier = small_classifier()
        classifier.save_to_preset(self.preset_dir)
        counts = CountingFiles(self)
        restored = PointCloudClassifier.from_preset(self.preset_dir)
        self.assertAllClose(restored(self.points), classifier(self.points), atol=1e-5)
        self.assertEqual(counts.resolved, 1)
        self.assertEqual(
            dict(counts.reads), {"task.json": 1, "metadata.json": 1}, counts.reads
        )

    def test_a_task_around_a_backbone_preset_is_resolved_once(self):
        small_pointnet().save_to_preset(self.preset_dir)
        counts = CountingFiles(self)
        segmenter = PointCloudSegmenter.from_preset(
            self.preset_dir, num_parts=4, num_categories=2, hidden_dims=(8,)
        )
        self.assertIsInstance(segmenter.backbone, PointNet)
        self.assertEqual(counts.resolved, 1)
        self.assertEqual(
            dict(counts.reads), {"config.json": 1, "metadata.json": 1}, counts.reads
        )

    def test_load_decides_backbone_or_task(self):
        small_pointnet().save_to_preset(self.preset_dir)
        self.assertIs(type(PresetLoader(self.preset_dir).load()), PointNet)
        small_classifier().save_to_preset(self.preset_dir, overwrite=True)
        loader = PresetLoader(self.preset_dir)
        self.assertIs(loader.task_class(), PointCloudClassifier)
        self.assertIs(type(loader.load()), PointCloudClassifier)
        self.assertIs(type(Task.from_preset(self.preset_dir)), PointCloudClassifier)


class NestedClassCheckTest(TestCase):
    """The backbone inside `task.json` is checked before deserialisation."""

    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        small_classifier().save_to_preset(self.preset_dir)
        self.config = preset_utils.load_json(self.preset_dir, "task.json")

    def assertRefusedBeforeBuilding(self, config, message):
        preset_utils.save_json(self.preset_dir, "task.json", config)
        with mock.patch.object(
            keras.saving, "deserialize_keras_object", side_effect=AssertionError
        ) as deserialize:
            with self.assertRaisesRegex(ValueError, message):
                PointCloudClassifier.from_preset(self.preset_dir)
        deserialize.assert_not_called()

    def test_nested_backbone_of_another_class(self):
        nested = self.config["config"]["backbone"]
        dense = keras.saving.serialize_keras_object(keras.layers.Dense(3))
        not_a_backbone = dict(nested, registered_name="keras_ttp>PointCloudClassifier")
        spoofed_module = dict(nested, module="os")
        for name, backbone, found in (
            ("a Keras Dense", dense, "'Dense'"),
            ("a keras_ttp task", not_a_backbone, "'keras_ttp>PointCloudClassifier'"),
            ("a foreign module", spoofed_module, "module 'os'"),
            ("not an object", "rm -rf", "class None"),
        ):
            with self.subTest(name):
                config = {**self.config, "config": {**self.config["config"]}}
                config["config"]["backbone"] = backbone
                self.assertRefusedBeforeBuilding(
                    config,
                    "task.json does not describe a keras_ttp Backbone at "
                    f"config.backbone .*{found}",
                )

    def test_other_nested_objects_must_be_keras_builtins(self):
        config = {**self.config, "config": {**self.config["config"]}}
        config["config"]["dropout"] = {
            "module": "evil",
            "class_name": "Payload",
            "config": {},
            "registered_name": "evil>Payload",
        }
        self.assertRefusedBeforeBuilding(
            config, "task.json holds an object at config.dropout .*'Payload'"
        )

    def test_top_level_class_of_another_kind(self):
        config = dict(self.config, registered_name="keras_ttp>PointNet")
        config["class_name"] = "PointNet"
        self.assertRefusedBeforeBuilding(
            config, "task.json does not describe a keras_ttp Task .*'PointNet'"
        )


class WeightsMismatchTest(TestCase):
    def test_mismatch_error_names_the_preset_the_file_and_the_difference(self):
        preset_dir = os.path.join(self.tmp_dir, "preset")
        small_pointnet().save_to_preset(preset_dir)
        with self.assertRaises(ValueError) as context:
            Backbone.from_preset(preset_dir, embedding_dim=8)
        message = str(context.exception)
        for text in (
            f"model.weights.h5 of preset {preset_dir}",
            "the weights do not match the configuration",
            "config.json",
            "<Dense name=conv3",
            "variable.shape=(128, 8), Received: value.shape=",
            "path=conv3/kernel",
            "List of objects that could not be loaded",
        ):
            self.assertIn(text, message)
        # `(128, 16)`, or `torch.Size([128, 16])` on torch.
        self.assertRegex(message, r"value\.shape=\S*\(\[?128, 16\]?\)")
        self.assertNotIn("value=[", message)  # no dump of the variable's values
