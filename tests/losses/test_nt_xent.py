import keras
import numpy as np

from keras_ttp.losses import NTXent
from keras_ttp.losses import nt_xent
from tests.test_case import TestCase


def numpy_nt_xent(a, b, tau):
    """Direct transcription of docs/design.md, section 1 (the paper's eqs. 1-5): for
    anchor u_i of one set, positive v_i of the other, negatives every other
    sample of both sets; symmetrised and averaged over 2B terms."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    batch = len(a)

    def term(u, v, i):
        positive = np.exp(u[i] @ v[i] / tau)
        denominator = sum(np.exp(u[i] @ v[k] / tau) for k in range(batch))
        denominator += sum(np.exp(u[i] @ u[k] / tau) for k in range(batch) if k != i)
        return -np.log(positive / denominator)

    total = sum(term(a, b, i) + term(b, a, i) for i in range(batch))
    return total / (2 * batch)


class NTXentTest(TestCase):
    def test_equals_numpy_transcription(self):
        rng = np.random.default_rng(0)
        for batch, dim, tau in ((2, 3, 0.1), (8, 16, 0.1), (5, 7, 0.5)):
            a = rng.normal(size=(batch, dim))
            b = rng.normal(size=(batch, dim))
            value = NTXent(temperature=tau)(a.astype("float32"), b.astype("float32"))
            np.testing.assert_allclose(
                float(value), numpy_nt_xent(a, b, tau), rtol=1e-5, atol=1e-5
            )

    def test_stable_for_identical_embeddings(self):
        # exp(1 / 0.01) overflows float32: a naive implementation gives inf/NaN.
        a = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
        value = float(NTXent(temperature=0.01)(a, a))
        self.assertTrue(np.isfinite(value))
        np.testing.assert_allclose(value, numpy_nt_xent(a.astype("float64"), a, 0.01), rtol=1e-4)

    def test_mixed_precision_inputs(self):
        rng = np.random.default_rng(2)
        a, b = rng.normal(size=(6, 32)), rng.normal(size=(6, 32))
        value = NTXent()(
            keras.ops.cast(a, "float16"), keras.ops.cast(b, "float16")
        )
        self.assertEqual(keras.backend.standardize_dtype(value.dtype), "float32")
        np.testing.assert_allclose(float(value), numpy_nt_xent(a, b, 0.1), rtol=1e-2)

    def test_serialization(self):
        loss = NTXent(temperature=0.3)
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(loss)
        )
        self.assertIsInstance(restored, NTXent)
        self.assertEqual(restored.temperature, 0.3)

    def test_rejects_bad_temperature(self):
        with self.assertRaisesRegex(ValueError, "temperature"):
            NTXent(temperature=0.0)

    def test_rows_against_a_larger_batch(self):
        # What each replica computes when the negatives are gathered: the
        # terms of its own rows against the whole batch; the blocks' terms
        # together are the whole batch's, an uneven split included.
        rng = np.random.default_rng(3)
        a = rng.normal(size=(7, 5)).astype("float32")
        b = rng.normal(size=(7, 5)).astype("float32")
        blocks = [
            nt_xent(a[i:j], b[i:j], 0.2, a, b, offset=i)
            for i, j in ((0, 3), (3, 7))
        ]
        total = keras.ops.convert_to_numpy(keras.ops.concatenate(blocks))
        np.testing.assert_allclose(total.mean(), numpy_nt_xent(a, b, 0.2), rtol=1e-5)
        # Without the larger batch a block only sees its own negatives.
        alone = float(keras.ops.mean(nt_xent(a[:3], b[:3], 0.2)))
        np.testing.assert_allclose(alone, numpy_nt_xent(a[:3], b[:3], 0.2), rtol=1e-5)

    def test_gather_negatives_is_saved(self):
        loss = NTXent(gather_negatives=False)
        restored = NTXent.from_config(loss.get_config())
        self.assertFalse(restored.gather_negatives)
