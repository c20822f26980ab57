"""The one shared test base class of keras-ttp, and helpers for test data.

Every test module subclasses `TestCase`; its `run_*_test` methods hold the
checks that every layer, backbone and model must pass on every backend.
"""

import os
import pathlib
import tempfile
import unittest
from unittest import mock

import keras
import numpy as np
import pytest

from keras_ttp.presets import preset_utils

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")


def installed_backends():
    """The `BACKENDS` whose framework is installed here (the GPU machine,
    say, has jax and torch but no tensorflow)."""
    import importlib.util

    return tuple(b for b in BACKENDS if importlib.util.find_spec(b) is not None)


def shared_data_dir(*parts):
    """Path to the project's real reference data (`../shared/data` beside the
    repository, or `$KERAS_TTP_SHARED_DATA`); skips the test when absent."""
    root = pathlib.Path(
        os.environ.get("KERAS_TTP_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")
    )
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real data not found at {path}: set KERAS_TTP_SHARED_DATA to the "
            "folder that holds shapenet260/ and modelnet10_ply_hdf5_2048/"
        )
    return path


def random_points(batch_size=2, num_points=64, seed=0):
    """Random float32 point clouds `(batch_size, num_points, 3)`."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch_size, num_points, 3)).astype("float32")


def perturb_weights(model, seed=0):
    """Moves every weight off its initial value, so that the comparison
    covers every variable (the T-Net's zero-initialised kernel included)."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()]
    )


def xla_compiled(function):
    """`function` compiled by XLA on tensorflow and jax; None on torch."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(function)
    return None


class TestCase(unittest.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(1337)
        self.tmp_dir = self.enterContext(tempfile.TemporaryDirectory())

    def embed_without_xla(self):
        """Turns off XLA for `keras_ttp.evaluation.extract_embeddings` for
        the rest of the test: for tiny models, compiling every predict would
        dominate the test's time."""
        self.enterContext(mock.patch("keras_ttp.evaluation.embeddings.use_xla_on_tensorflow"))

    def assertAllClose(self, actual, expected, atol=1e-6, rtol=1e-6, msg=None):
        actual = keras.tree.map_structure(keras.ops.convert_to_numpy, actual)
        expected = keras.tree.map_structure(keras.ops.convert_to_numpy, expected)
        keras.tree.assert_same_structure(actual, expected)
        for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
            np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=msg or "")

    def assertRegistered(self, obj):
        name = keras.saving.get_registered_name(type(obj))
        self.assertTrue(
            name.startswith("keras_ttp>"), f"{type(obj)} is not registered: {name}"
        )
        self.assertIs(keras.saving.get_registered_object(name), type(obj))

    def run_layer_test(
        self, layer, inputs, expected_output_shape=None, call_kwargs=None
    ):
        """Calls a fresh `layer` once, checks the output shape, and that a
        layer rebuilt from `get_config` with the same weights gives the same
        outputs on its first call (random layers must be seeded)."""
        call_kwargs = call_kwargs or {}
        self.assertRegistered(layer)
        outputs = layer(inputs, **call_kwargs)
        shapes = keras.tree.map_structure(lambda t: tuple(t.shape), outputs)
        if expected_output_shape is not None:
            self.assertEqual(shapes, expected_output_shape)
        clone = layer.__class__.from_config(layer.get_config())
        clone.build(np.shape(inputs))
        clone.set_weights(layer.get_weights())
        self.assertEqual(clone.get_config(), layer.get_config())
        self.assertAllClose(clone(inputs, **call_kwargs), outputs, atol=1e-5)
        return outputs

    def run_model_saving_test(self, model, inputs, call_kwargs=None):
        """Round-trips `model` through a `.keras` file and compares outputs."""
        call_kwargs = call_kwargs or {}
        expected = model(inputs, **call_kwargs)
        path = os.path.join(self.tmp_dir, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertIs(type(restored), type(model))
        self.assertAllClose(restored(inputs, **call_kwargs), expected, atol=1e-5)
        return restored

    def run_backbone_test(self, backbone, num_points=(32,)):
        """Shapes of both outputs for every number of points, invariance of
        the global feature to point order, and the `.keras` round trip."""
        self.assertRegistered(backbone)
        dim = backbone.get_config()["embedding_dim"]
        for n in num_points:
            points = random_points(2, n, seed=n)
            outputs = backbone(points)
            self.assertEqual(tuple(outputs["point_features"].shape), (2, n, dim))
            self.assertEqual(tuple(outputs["global_features"].shape), (2, dim))
            self.assertAllClose(
                outputs["global_features"],
                np.max(keras.ops.convert_to_numpy(outputs["point_features"]), axis=1),
            )
            permuted = points[:, np.random.default_rng(0).permutation(n)]
            self.assertAllClose(
                backbone(permuted)["global_features"],
                outputs["global_features"],
                atol=1e-4,
                rtol=1e-4,
            )
        self.run_model_saving_test(backbone, random_points(2, num_points[0]))
        self.run_symbolic_and_mixed_precision_test(backbone, random_points(2, num_points[0]))
        with self.assertRaisesRegex(TypeError, "accepts: .*embedding_dim"):
            type(backbone)(**backbone.get_config(), not_an_argument=1)

    def run_symbolic_and_mixed_precision_test(self, model, inputs):
        """A symbolic call (`keras.KerasTensor` inputs, as the functional
        API makes) gives outputs of the eager call's shapes, batch left
        open; and the model rebuilt with the `mixed_bfloat16` policy (its
        backbone's too) runs, computing in bfloat16 with float32
        variables."""
        eager = model(inputs)
        specs = keras.tree.map_structure(
            lambda x: keras.KerasTensor((None, *np.shape(x)[1:]), dtype=np.asarray(x).dtype),
            inputs,
        )
        symbolic = model(specs)
        keras.tree.map_structure(
            lambda s, e: self.assertEqual(tuple(s.shape), (None, *tuple(e.shape)[1:])),
            symbolic,
            eager,
        )
        config = model.get_config()
        config["dtype"] = "mixed_bfloat16"
        if "backbone" in config:
            config["backbone"]["config"]["dtype"] = "mixed_bfloat16"
        mixed = type(model).from_config(config)
        self.assertEqual(mixed.dtype_policy.name, "mixed_bfloat16")
        outputs = keras.tree.flatten(mixed(inputs))
        for output in outputs:
            self.assertEqual(keras.backend.standardize_dtype(output.dtype), "bfloat16")
            self.assertTrue(np.isfinite(keras.ops.convert_to_numpy(output).astype("float32")).all())
        self.assertTrue(all(v.dtype == "float32" for v in mixed.trainable_variables))
        return mixed

    def run_task_test(self, task, x, y, expected_output_shape):
        """Output shape, `compile()` defaults and two steps of `fit`,
        `predict`, and the `.keras` round trip of a compiled task."""
        self.assertRegistered(task)
        self.assertEqual(tuple(task(x).shape), expected_output_shape)
        task.compile()
        history = task.fit(x, y, batch_size=len(y) // 2, epochs=1, verbose=0)
        self.assertEqual(sorted(history.history), ["accuracy", "loss"])
        self.assertTrue(np.isfinite(history.history["loss"]).all())
        self.assertEqual(task.predict(x, verbose=0).shape, expected_output_shape)
        restored = self.run_model_saving_test(task, x)
        self.assertEqual(restored.get_config(), task.get_config())
        mixed = self.run_symbolic_and_mixed_precision_test(task, x)
        mixed.compile()
        loss = mixed.train_on_batch(x, y)[0]  # the loss stays float32
        self.assertTrue(np.isfinite(loss))
        self.assertEqual(
            len(restored.optimizer.variables), len(task.optimizer.variables)
        )
        return restored

    def run_preset_test(self, model, inputs):
        """Saves `model` (a backbone or a task) as a preset, checks its
        files and metadata, and that `from_preset` of its class gives the
        same outputs."""
        preset_dir = os.path.join(self.tmp_dir, "preset")
        model.save_to_preset(preset_dir, metadata={"epochs": 1})
        for filename in preset_utils.PRESET_FILES:
            path = os.path.join(preset_dir, filename)
            self.assertTrue(os.path.isfile(path), path)
        metadata = preset_utils.load_json(preset_dir, preset_utils.METADATA_FILE)
        self.assertEqual(metadata["backend"], keras.backend.backend())
        self.assertEqual(metadata["parameter_count"], model.count_params())
        self.assertEqual(metadata["epochs"], 1)
        restored = type(model).from_preset(preset_dir)
        self.assertIs(type(restored), type(model))
        self.assertEqual(restored.get_config(), model.get_config())
        self.assertAllClose(restored(inputs), model(inputs), atol=1e-5)
        return restored
