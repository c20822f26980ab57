import keras
import numpy as np

from keras_ttp.layers import EdgeConv
from keras_ttp.layers import gather_neighbors
from keras_ttp.layers import knn
from keras_ttp.ops.knn import count_neighbors
from keras_ttp.ops.selection import largest_neighbor
from keras_ttp.ops.selection import smallest_k_indices
from keras_ttp.ops.xla import compiling_with_xla
from tests.test_case import TestCase
from tests.test_case import xla_compiled


def numpy_knn(x, k):
    """Brute force: sort all squared distances of every point."""
    distances = ((x[:, :, None, :] - x[:, None, :, :]) ** 2).sum(-1)
    return np.argsort(distances, axis=-1, kind="stable")[..., :k]


def numpy_edge_conv(x, kernel, k, gamma, beta, mean, var, eps, slope, training):
    batch, n, _ = x.shape
    indices = numpy_knn(x, k)
    edges = np.zeros((batch, n, k, kernel.shape[1]))
    for b in range(batch):
        for i in range(n):
            for j_pos, j in enumerate(indices[b, i]):
                edge = np.concatenate([x[b, j] - x[b, i], x[b, i]])
                edges[b, i, j_pos] = edge @ kernel
    if training:
        mean = edges.mean(axis=(0, 1, 2))
        var = edges.var(axis=(0, 1, 2))
    edges = gamma * (edges - mean) / np.sqrt(var + eps) + beta
    edges = np.where(edges > 0, edges, slope * edges)
    return edges.max(axis=2)


class KnnTest(TestCase):
    def test_knn_equals_brute_force(self):
        x = np.random.default_rng(0).normal(size=(2, 50, 5)).astype("float32")
        indices = keras.ops.convert_to_numpy(knn(x, 7))
        np.testing.assert_array_equal(indices, numpy_knn(x, 7))
        # Every point is its own nearest neighbour.
        np.testing.assert_array_equal(indices[..., 0], np.tile(np.arange(50), (2, 1)))

    def test_smallest_k_indices_equals_a_stable_sort(self):
        rng = np.random.default_rng(2)
        values = rng.normal(size=(3, 4, 50)).astype("float32")
        values[0, :, 10:30] = values[0, :, :1]  # ties, across groups
        values[1] = np.round(values[1])  # many ties
        values[2, 0, 5:] = np.inf
        values[2, 1, :] = 0.0
        values[2, 1, ::3] = -0.0  # equal to 0.0, so ties by index
        values[2, 2, 3:] = -np.inf
        values[2, 3, 7] = np.finfo("float32").max  # ties with +inf (documented)
        clamped = np.minimum(values, np.finfo("float32").max)
        for k, group_size in ((7, 8), (7, 32), (20, 4), (50, 8), (1, 64)):
            expected = np.argsort(clamped, axis=-1, kind="stable")[..., :k]
            indices = smallest_k_indices(values, k, group_size=group_size)
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(indices), expected)

    def test_knn_under_xla_equals_brute_force(self):
        knn_compiled = xla_compiled(lambda x: (knn(x, 20), compiling_with_xla(x)))
        if knn_compiled is None:
            self.skipTest("XLA compiles tensorflow and jax functions only")
        x = np.random.default_rng(4).normal(size=(2, 100, 3)).astype("float32")
        x[:, 40:70] = x[:, 3:4]  # duplicated points, as after input dropout
        indices, used_xla = knn_compiled(x)
        self.assertTrue(used_xla)
        self.assertFalse(compiling_with_xla(keras.ops.convert_to_tensor(x)))
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(indices), numpy_knn(x, 20))

    def test_gather_neighbors(self):
        # Batch sizes equal to k and to the number of points too: Keras's
        # tensorflow `ops.add` once put per-sample offsets on those axes.
        rng = np.random.default_rng(1)
        for batch in (3, 5, 10):
            features = rng.normal(size=(batch, 10, 4)).astype("float32")
            indices = rng.integers(0, 10, size=(batch, 10, 5)).astype("int32")
            expected = np.stack([features[b][indices[b]] for b in range(batch)])
            self.assertAllClose(gather_neighbors(features, indices), expected)
            positions = np.argmax(expected, axis=2)
            self.assertAllClose(
                largest_neighbor(features, indices),
                np.take_along_axis(indices, positions, axis=2),
            )

    def test_count_neighbors(self):
        indices = np.random.default_rng(3).integers(0, 12, size=(3, 8, 5))
        expected = np.stack([np.bincount(row.ravel(), minlength=12) for row in indices])
        self.assertAllClose(count_neighbors(indices.astype("int32"), 12), expected)

    def test_largest_neighbor_equals_numpy_argmax(self):
        rng = np.random.default_rng(5)
        features = np.round(rng.normal(size=(3, 12, 6)), 1).astype("float32")  # ties
        features[0, :, 2] = 1.0  # a channel tied everywhere
        features[1, 3:8] = features[1, 2]  # duplicated points
        indices = rng.integers(0, 12, size=(3, 12, 5)).astype("int32")
        gathered = np.stack([features[b][indices[b]] for b in range(3)])
        positions = np.argmax(gathered, axis=2)  # numpy: ties to the first
        expected = np.take_along_axis(indices, positions, axis=2)
        functions = [largest_neighbor]
        if xla_compiled(largest_neighbor) is not None:
            functions.append(xla_compiled(largest_neighbor))
        for function in functions:
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(function(features, indices)), expected
            )

    def test_too_few_points(self):
        with self.assertRaisesRegex(ValueError, "at least k=20 points"):
            knn(np.zeros((1, 10, 3), "float32"), 20)


class EdgeConvTest(TestCase):
    def setUp(self):
        super().setUp()
        self.x = np.random.default_rng(2).normal(size=(2, 24, 3)).astype("float32")

    def test_layer_basics(self):
        self.run_layer_test(EdgeConv(8, k=5), self.x, expected_output_shape=(2, 24, 8))

    def test_equals_numpy_reference_when_the_batch_size_is_k(self):
        rng = np.random.default_rng(4)
        x = rng.normal(size=(4, 12, 3)).astype("float32")
        layer = EdgeConv(6, k=4)
        layer.build(x.shape)
        kernel = rng.normal(size=(6, 6)).astype("float32")
        layer.set_weights([kernel, *(w for w in layer.get_weights()[1:])])
        gamma, beta, mean, var = layer.get_weights()[1:]
        expected = numpy_edge_conv(x, kernel, 4, gamma, beta, mean, var, 1e-5, 0.2, True)
        self.assertAllClose(layer(x, training=True), expected, atol=1e-4, rtol=1e-4)

    def test_equals_numpy_reference(self):
        rng = np.random.default_rng(3)
        kernel = rng.normal(size=(6, 6)).astype("float32")
        # Negative gammas too: there the layer must pick the smallest edge.
        gamma, beta = rng.uniform(-1, 1, 6), rng.normal(size=6)
        mean, var = rng.normal(size=6), rng.uniform(0.5, 2, 6)
        for memory_efficient in (True, False):
            layer = EdgeConv(6, k=4, memory_efficient=memory_efficient)
            layer.build(self.x.shape)
            layer.set_weights([kernel, gamma, beta, mean, var])
            for training in (False, True):
                expected = numpy_edge_conv(
                    self.x, kernel, 4, gamma, beta, mean, var, 1e-5, 0.2, training
                )
                self.assertAllClose(
                    layer(self.x, training=training), expected, atol=1e-4, rtol=1e-4,
                    msg=f"memory_efficient={memory_efficient}, training={training}",
                )

    def test_memory_efficient_path_trains_like_the_plain_one(self):
        """Same weights in, one SGD step on a loss through the layer: the
        same gradient-updated weights and moving statistics out."""

        def one_step(memory_efficient):
            keras.utils.set_random_seed(5)
            inputs = keras.Input((None, 3))
            x = EdgeConv(8, k=6, memory_efficient=memory_efficient)(inputs)
            x = EdgeConv(5, k=6, memory_efficient=memory_efficient)(x)
            model = keras.Model(inputs, keras.ops.max(x, axis=1))
            weights = model.get_weights()
            rng = np.random.default_rng(6)
            weights[1] = rng.uniform(-1, 1, weights[1].shape).astype("float32")
            model.set_weights(weights)
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
            model.train_on_batch(self.x, np.ones((2, 5), "float32"))
            return model.get_weights()

        self.assertAllClose(one_step(True), one_step(False), atol=1e-5, rtol=1e-4)
