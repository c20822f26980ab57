import numpy as np

from keras_ttp.evaluation import SHAPENET_PART_CATEGORIES
from keras_ttp.evaluation import part_segmentation_metrics
from keras_ttp.evaluation import parts_from_logits
from tests.test_case import TestCase

# Shape A, Airplane (parts 0-3): true (0, 0, 1, 2), predicted (0, 1, 1, 2).
#   part 0: 1 / 2, part 1: 1 / 2, part 2: 1 / 1, part 3 absent: 1 -> 3 / 4
# Shape B, Bag (parts 4-5): true (4, 4, 5, 5), predicted (4, 4, 4, 5).
#   part 4: 2 / 3, part 5: 1 / 2 -> 7 / 12
# Shape C, Airplane: all part 0, all right -> 1
# Instance mIoU (3/4 + 7/12 + 1) / 3 = 7 / 9; Airplane (3/4 + 1) / 2 = 7 / 8,
# Bag 7 / 12, class mIoU (7/8 + 7/12) / 2 = 35 / 48; accuracy 10 / 12.
TRUE = np.array([[0, 0, 1, 2], [4, 4, 5, 5], [0, 0, 0, 0]])
PRED = np.array([[0, 1, 1, 2], [4, 4, 4, 5], [0, 0, 0, 0]])
EXPECTED = {
    "instance_miou": 700 / 9,
    "class_miou": 3500 / 48,
    "accuracy": 1000 / 12,
    "category_iou": {"Airplane": 87.5, "Bag": 700 / 12},
    "shape_iou": np.array([75.0, 700 / 12, 100.0]),
}


class PartSegmentationMetricsTest(TestCase):
    def test_table(self):
        self.assertEqual(len(SHAPENET_PART_CATEGORIES), 16)
        parts = sum(SHAPENET_PART_CATEGORIES.values(), ())
        self.assertEqual(parts, tuple(range(50)))
        self.assertEqual(SHAPENET_PART_CATEGORIES["Motorbike"], tuple(range(30, 36)))

    def test_hand_computed(self):
        for categories in [
            ["Airplane", "Bag", "Airplane"],
            [0, 1, 0],
            ["airplane", "BAG", "Airplane"],
        ]:
            metrics = part_segmentation_metrics(PRED, TRUE, categories)
            self.assertAllClose(metrics, EXPECTED)

    def test_logits_are_restricted_to_the_category(self):
        logits = np.zeros((3, 4, 50), dtype="float32")
        logits[np.arange(3)[:, None], np.arange(4), PRED] = 1.0
        # The best scores overall are a Chair part (12): never chosen for an
        # Airplane or a Bag.
        logits[..., 12] = 5.0
        self.assertEqual(
            parts_from_logits(logits, [0, 1, 0]).tolist(), PRED.tolist()
        )
        metrics = part_segmentation_metrics(logits, TRUE, [0, 1, 0])
        self.assertAllClose(metrics, EXPECTED)

    def test_shapes_with_different_numbers_of_points(self):
        # Shape C with 2 points instead of 4 changes nothing.
        metrics = part_segmentation_metrics(
            list(PRED[:2]) + [PRED[2, :2]], list(TRUE[:2]) + [TRUE[2, :2]], [0, 1, 0]
        )
        self.assertAllClose(metrics["instance_miou"], EXPECTED["instance_miou"])
        self.assertAllClose(metrics["accuracy"], 800 / 10)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "Unknown categories.*'Plane'"):
            part_segmentation_metrics(PRED, TRUE, ["Plane", "Bag", "Airplane"])
        with self.assertRaisesRegex(ValueError, r"integers in \[0, 16\)"):
            part_segmentation_metrics(PRED, TRUE, [0, 16, 0])
        with self.assertRaisesRegex(ValueError, "true part 4.*Airplane"):
            part_segmentation_metrics(PRED, TRUE, [0, 0, 0])
        with self.assertRaisesRegex(ValueError, "one of each per shape"):
            part_segmentation_metrics(PRED[:2], TRUE, [0, 1, 0])
        with self.assertRaisesRegex(ValueError, r"Shape 1: .*\(3,\)"):
            truth = [TRUE[0], TRUE[1, :3], TRUE[2]]
            part_segmentation_metrics(PRED, truth, [0, 1, 0])
        with self.assertRaisesRegex(ValueError, "`pred_parts` must be integer"):
            part_segmentation_metrics(PRED + 50, TRUE, [0, 1, 0])
        with self.assertRaisesRegex(ValueError, "must score 50 parts"):
            parts_from_logits(np.zeros((3, 4, 40)), [0, 1, 0])
