"""The sha256 of each weights file, recorded by `save_to_preset` in
`metadata.json` and checked by `from_preset`."""

import hashlib
import os

from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointNet
from keras_ttp.presets import list_presets
from keras_ttp.presets import preset_utils
from keras_ttp.presets import registry
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points


def sha256(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


class PresetHashesTest(TestCase):
    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        self.points = random_points(2, 16)

    def path(self, filename):
        return os.path.join(self.preset_dir, filename)

    def test_save_records_the_sha256_of_each_weights_file(self):
        classifier = PointCloudClassifier(
            PointNet(embedding_dim=16, input_transform=False), num_classes=3
        )
        classifier.save_to_preset(self.preset_dir, metadata={"weights_sha256": "x"})
        metadata = preset_utils.load_json(self.preset_dir, "metadata.json")
        expected = {
            name: sha256(self.path(name))
            for name in ("model.weights.h5", "task.weights.h5")
        }
        self.assertEqual(metadata["weights_sha256"], expected)

    def test_changed_weights_are_refused_unless_verify_hashes_is_false(self):
        backbone = PointNet(embedding_dim=16, input_transform=False)
        backbone.save_to_preset(self.preset_dir)
        perturb_weights(backbone)  # weights edited after saving
        backbone.save_weights(self.path("model.weights.h5"))
        with self.assertRaises(ValueError) as context:
            PointNet.from_preset(self.preset_dir)
        message = str(context.exception)
        for text in (
            self.path("model.weights.h5"),
            "does not match the sha256 recorded for it in metadata.json",
            "verify_hashes=False",
        ):
            self.assertIn(text, message)
        restored = PointNet.from_preset(self.preset_dir, verify_hashes=False)
        self.assertAllClose(restored(self.points), backbone(self.points), atol=1e-5)

    def test_flipped_bytes_in_the_head_weights_are_refused(self):
        classifier = PointCloudClassifier(
            PointNet(embedding_dim=16, input_transform=False), num_classes=3
        )
        classifier.save_to_preset(self.preset_dir)
        with open(self.path("task.weights.h5"), "r+b") as file:
            data = bytearray(file.read())
            data[-64:] = bytes(255 - b for b in data[-64:])
            file.seek(0)
            file.write(data)
        with self.assertRaisesRegex(ValueError, "task.weights.h5 does not match"):
            PointCloudClassifier.from_preset(self.preset_dir)

    def test_presets_without_recorded_hashes_load(self):
        backbone = PointNet(embedding_dim=16, input_transform=False)
        perturb_weights(backbone)
        backbone.save_to_preset(self.preset_dir)
        metadata = preset_utils.load_json(self.preset_dir, "metadata.json")
        del metadata["weights_sha256"]
        preset_utils.save_json(self.preset_dir, "metadata.json", metadata)
        restored = PointNet.from_preset(self.preset_dir)
        self.assertAllClose(restored(self.points), backbone(self.points), atol=1e-5)
        preset_utils.save_json(self.preset_dir, "metadata.json", {"weights_sha256": 1})
        with self.assertRaisesRegex(ValueError, "metadata.json: 'weights_sha256' must"):
            PointNet.from_preset(self.preset_dir)

    def test_shipped_presets_record_the_hashes_of_their_weights(self):
        for name in list_presets():
            folder = registry.package_folder(name)
            if not folder.is_dir():
                continue
            with self.subTest(name):
                metadata = preset_utils.load_json(folder, "metadata.json")
                self.assertEqual(
                    metadata["weights_sha256"],
                    {"model.weights.h5": sha256(folder / "model.weights.h5")},
                )
