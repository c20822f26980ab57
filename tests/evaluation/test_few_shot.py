import numpy as np

from keras_ttp.evaluation import few_shot_accuracy
from keras_ttp.evaluation import few_shot_episodes
from tests.test_case import TestCase

# 4 classes of 25 shapes, interleaved.
LABELS = np.tile(np.arange(4), 25)


class FewShotEpisodesTest(TestCase):
    def test_episodes(self):
        episodes = few_shot_episodes(
            LABELS, n_way=3, k_shot=5, n_query=20, num_episodes=10, seed=3
        )
        self.assertEqual(len(episodes), 10)
        for episode in episodes:
            classes = episode["classes"]
            self.assertEqual(len(set(classes.tolist())), 3)
            self.assertEqual(episode["support"].shape, (15,))
            self.assertEqual(episode["query"].shape, (60,))
            self.assertFalse(set(episode["support"]) & set(episode["query"]))
            # Grouped by class, in the order of `classes`.
            self.assertEqual(
                LABELS[episode["support"]].tolist(), np.repeat(classes, 5).tolist()
            )
            self.assertEqual(
                LABELS[episode["query"]].tolist(), np.repeat(classes, 20).tolist()
            )

    def test_reproducible_under_seed(self):
        def draw(seed):
            episodes = few_shot_episodes(LABELS, 2, 5, num_episodes=5, seed=seed)
            return [np.concatenate(list(e.values())).tolist() for e in episodes]

        self.assertEqual(draw(0), draw(0))
        self.assertNotEqual(draw(0), draw(1))

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "needs 5 classes, the labels have 4"):
            few_shot_episodes(LABELS, n_way=5, k_shot=1)
        with self.assertRaisesRegex(ValueError, r"21 shapes.*3: 20"):
            few_shot_episodes(np.concatenate([LABELS[LABELS != 3], [3] * 20]), 2, 1)
        with self.assertRaisesRegex(ValueError, "`n_way` must be an integer >= 2"):
            few_shot_episodes(LABELS, n_way=1, k_shot=1)
        with self.assertRaisesRegex(ValueError, "one label per shape"):
            few_shot_episodes(LABELS.reshape(4, 25), n_way=2, k_shot=1)


class FewShotAccuracyTest(TestCase):
    def test_hand_computed(self):
        # Classes 0 and 1 are points of their own; classes 2 and 3 share one
        # feature. A {2, 3} episode predicts one class for every query: 50%.
        # Every other pair is separable: 100%.
        centres = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, -10.0], [-10.0, -10.0]])
        features = centres[LABELS]
        kwargs = dict(n_way=2, k_shot=5, n_query=20, num_episodes=12, seed=0)
        result = few_shot_accuracy(features, LABELS, **kwargs)
        expected = [
            50.0 if set(e["classes"]) == {2, 3} else 100.0
            for e in few_shot_episodes(LABELS, **kwargs)
        ]
        self.assertIn(50.0, expected)
        self.assertIn(100.0, expected)
        self.assertEqual(result["accuracies"], expected)
        self.assertAlmostEqual(result["mean"], np.mean(expected))
        self.assertAlmostEqual(result["std"], np.std(expected))

    def test_separable(self):
        features = np.eye(4)[LABELS] * 5.0
        result = few_shot_accuracy(features, LABELS, 4, 5, num_episodes=3)
        self.assertEqual(result, {"mean": 100.0, "std": 0.0, "accuracies": [100.0] * 3})
