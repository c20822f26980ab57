import numpy as np

from keras_ttp.evaluation import stratified_subset
from keras_ttp.evaluation import validation_split
from tests.test_case import TestCase

# Unbalanced classes in shuffled order, like ModelNet10's train rows.
LABELS = np.random.default_rng(5).permutation(np.repeat([3, 0, 7, 1], [50, 20, 31, 9]))


class ValidationSplitTest(TestCase):
    def test_stratified_disjoint_and_covering(self):
        fit, validation = validation_split(LABELS, fraction=0.2, seed=0)
        self.assertEqual(np.intersect1d(fit, validation).size, 0)
        np.testing.assert_array_equal(np.sort(np.concatenate([fit, validation])), np.arange(len(LABELS)))
        for label, count in zip(*np.unique(LABELS, return_counts=True)):
            self.assertEqual((LABELS[validation] == label).sum(), round(0.2 * count), label)
        self.assertTrue(np.all(np.diff(validation) > 0))

    def test_deterministic_and_seeded(self):
        first = validation_split(LABELS)
        second = validation_split(LABELS.reshape(-1, 1))  # (S, 1) labels too
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)
        other = validation_split(LABELS, seed=1)[1]
        self.assertFalse(np.array_equal(first[1], other))

    def test_fixed_across_machines(self):
        # The split is numpy's default_rng permuting each class in sorted
        # order: the same indices on every machine (a change of the recipe
        # would change the validation split of every recorded result).
        labels = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
        rng = np.random.default_rng(0)
        expected = np.sort(np.concatenate([
            rng.permutation(np.flatnonzero(labels == c))[:2] for c in (0, 1)
        ]))  # fmt: skip
        np.testing.assert_array_equal(validation_split(labels, 0.4)[1], expected)

    def test_every_class_in_both_parts(self):
        labels = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
        fit, validation = validation_split(labels, 0.2)
        self.assertEqual(set(labels[fit]), {0, 1})
        self.assertEqual(set(labels[validation]), {0, 1})

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "at least 2"):
            validation_split([0, 0, 1])
        with self.assertRaisesRegex(ValueError, r"\(0, 1\)"):
            validation_split(LABELS, fraction=1.0)
        with self.assertRaisesRegex(ValueError, "no shape to fit"):
            validation_split([0, 0, 1, 1], fraction=0.9)


class StratifiedSubsetTest(TestCase):
    def test_fraction_of_every_class(self):
        subset = stratified_subset(LABELS, 0.1, seed=2)
        counts = dict(zip(*np.unique(LABELS[subset], return_counts=True)))
        self.assertEqual(counts, {0: 2, 1: 1, 3: 5, 7: 3})
        np.testing.assert_array_equal(stratified_subset(LABELS, 1.0), np.arange(len(LABELS)))
        # At least one per class, even for a tiny fraction.
        self.assertEqual(set(LABELS[stratified_subset(LABELS, 0.001)]), {0, 1, 3, 7})
