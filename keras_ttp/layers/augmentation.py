"""Seeded point-cloud augmentation layers.

Every layer takes point clouds `(batch, num_points, 3)` with y up. The random
layers draw independent parameters for every sample from a seeded Keras
random generator and, like `keras.layers.GaussianNoise`, only act when called
with `training=True`. Their defaults are the ToThePoint authors' settings.
"""

import math

import keras
from keras import ops

from keras_ttp.ops import random


@keras.saving.register_keras_serializable(package="keras_ttp")
class UnitSphereNormalization(keras.layers.Layer):
    """Centres every cloud on its centroid and scales it into the unit sphere
    (the farthest point at distance 1). Deterministic: applied in training
    and inference alike.

    Example:
    >>> x = UnitSphereNormalization()(10 * np.random.rand(2, 64, 3))
    >>> float(np.max(np.linalg.norm(x, axis=-1)))  # doctest: +ELLIPSIS
    1.0...
    """

    def __init__(self, epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs):
        centred = inputs - ops.mean(inputs, axis=1, keepdims=True)
        radius = ops.max(ops.norm(centred, axis=-1), axis=1)
        radius = ops.maximum(radius, self.epsilon)
        return centred / ops.reshape(radius, (-1, 1, 1))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config


class RandomPointCloudLayer(keras.layers.Layer):
    """Base of the random augmentation layers: a seed, a seed generator and
    a `call` that only augments when `training=True`."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if training:
            return self.augment(inputs)
        return inputs

    def augment(self, inputs):
        raise NotImplementedError

    def uniform(self, shape, minval, maxval):
        return random.uniform(
            shape, minval, maxval, self.compute_dtype, self.seed_generator
        )

    def normal(self, shape, stddev):
        return random.normal(shape, stddev, self.compute_dtype, self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomShuffle(RandomPointCloudLayer):
    """Shuffles the order of the points of every cloud independently."""

    def augment(self, inputs):
        shape = ops.shape(inputs)
        keys = self.uniform(shape[:2], 0.0, 1.0)
        order = ops.expand_dims(ops.argsort(keys, axis=1), -1)
        return ops.take_along_axis(inputs, order, axis=1)


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomScale(RandomPointCloudLayer):
    """Scales every cloud isotropically by a factor drawn from
    `U(minval, maxval)`."""

    def __init__(self, minval=0.5, maxval=2.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.minval = minval
        self.maxval = maxval

    def augment(self, inputs):
        batch_size = ops.shape(inputs)[0]
        return inputs * self.uniform((batch_size, 1, 1), self.minval, self.maxval)

    def get_config(self):
        config = super().get_config()
        config.update({"minval": self.minval, "maxval": self.maxval})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomRotation(RandomPointCloudLayer):
    """Rotates every cloud about coordinate axis `axis` (default 1: y, the
    vertical of the clouds keras-ttp's readers return) by an angle drawn
    from `U(0, max_angle)`, counter-clockwise seen from the axis's positive
    end."""

    def __init__(self, max_angle=2.0 * math.pi, axis=1, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if axis not in (0, 1, 2):
            raise ValueError(f"`axis` must be 0, 1 or 2 (x, y, z), got {axis!r}.")
        self.max_angle = max_angle
        self.axis = axis

    def augment(self, inputs):
        batch_size = ops.shape(inputs)[0]
        angle = self.uniform((batch_size, 1), 0.0, self.max_angle)
        cos, sin = ops.cos(angle), ops.sin(angle)
        # The plane of the rotation: axes i and j, right-handed with `axis`.
        i, j = (self.axis + 1) % 3, (self.axis + 2) % 3
        coordinates = [inputs[..., c] for c in range(3)]
        a, b = coordinates[i], coordinates[j]
        coordinates[i] = cos * a - sin * b
        coordinates[j] = sin * a + cos * b
        return ops.stack(coordinates, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"max_angle": self.max_angle, "axis": self.axis})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomTranslation(RandomPointCloudLayer):
    """Shifts every cloud, per axis, by `U(-factor, factor)` times the
    extent of its bounding box along that axis."""

    def __init__(self, factor=0.5, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor

    def augment(self, inputs):
        batch_size = ops.shape(inputs)[0]
        extent = ops.max(inputs, axis=1, keepdims=True) - ops.min(
            inputs, axis=1, keepdims=True
        )
        shift = self.uniform((batch_size, 1, 3), -self.factor, self.factor)
        return inputs + shift * extent

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomJitter(RandomPointCloudLayer):
    """Adds Gaussian noise `N(0, stddev)` to every coordinate, clipped to
    `[-clip, clip]`."""

    def __init__(self, stddev=0.01, clip=0.05, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev
        self.clip = clip

    def augment(self, inputs):
        noise = self.normal(ops.shape(inputs), self.stddev)
        return inputs + ops.clip(noise, -self.clip, self.clip)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "clip": self.clip})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomPointDropout(RandomPointCloudLayer):
    """PointNet++'s random input dropout: for every cloud a ratio is drawn
    from `U(0, max_ratio)`, and each point is dropped with that probability;
    dropped points are replaced by the cloud's first point, so the number of
    points stays the same."""

    def __init__(self, max_ratio=0.875, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.max_ratio = max_ratio

    def augment(self, inputs):
        shape = ops.shape(inputs)
        ratio = self.uniform((shape[0], 1), 0.0, self.max_ratio)
        dropped = self.uniform(shape[:2], 0.0, 1.0) <= ratio
        return ops.where(ops.expand_dims(dropped, -1), inputs[:, :1], inputs)

    def get_config(self):
        config = super().get_config()
        config.update({"max_ratio": self.max_ratio})
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RandomElasticDeformation(RandomPointCloudLayer):
    """A smooth random deformation: every point moves by a sum of Gaussian
    bumps, `sum_j a_j exp(-|p - c_j|^2 / (2 sigma^2))`, with `num_centers`
    centres `c_j` drawn in the cloud's bounding box and displacements `a_j`
    drawn from `N(0, magnitude)`. Named by the ToThePoint paper but not used
    in the authors' code, so it is off in `PointCloudAugmentation` by default.
    """

    def __init__(self, num_centers=8, sigma=0.3, magnitude=0.05, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.num_centers = num_centers
        self.sigma = sigma
        self.magnitude = magnitude

    def augment(self, inputs):
        batch_size = ops.shape(inputs)[0]
        lower = ops.min(inputs, axis=1, keepdims=True)
        upper = ops.max(inputs, axis=1, keepdims=True)
        centers = lower + (upper - lower) * self.uniform(
            (batch_size, self.num_centers, 3), 0.0, 1.0
        )
        displacements = self.normal((batch_size, self.num_centers, 3), self.magnitude)
        offsets = ops.expand_dims(inputs, 2) - ops.expand_dims(centers, 1)
        weights = ops.exp(
            -ops.sum(ops.square(offsets), axis=-1) / (2.0 * self.sigma**2)
        )
        return inputs + ops.matmul(weights, displacements)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_centers": self.num_centers,
                "sigma": self.sigma,
                "magnitude": self.magnitude,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class PointCloudAugmentation(keras.layers.Layer):
    """The ToThePoint augmentation pipeline, defaults from the authors' code.

    In order: shuffle the points; normalise to the unit sphere; (elastic
    deformation, off by default); isotropic scale `U(0.5, 2)`; rotation about
    the vertical (y) axis by `U(0, 2 pi)`; translation by `U(-0.5, 0.5)`
    times the bounding-box extent per axis; jitter `N(0, 0.01)` clipped to
    0.05; random input dropout with a ratio up to 0.875. Set a step's
    argument to `None` (or `False` for the flags) to leave it out. Normalisation is applied in
    training and inference; the random steps only with `training=True`.

    Args:
        shuffle, normalize: flags.
        scale: `(minval, maxval)` of the scale factor.
        max_angle: maximum rotation angle, in radians.
        rotation_axis: the axis of the rotation, 0, 1 or 2 (x, y, z); 1, the
            vertical of keras-ttp's clouds, by default. The authors rotate
            their z-up files about their y, which is z in keras-ttp's
            y-up frame: `rotation_axis=2`.
        translation: translation factor (times the bounding-box extent).
        jitter: `(stddev, clip)` of the jitter.
        max_dropout_ratio: maximum ratio of the random input dropout.
        elastic: `None`, or a dict of `RandomElasticDeformation` arguments
            (`{}` for its defaults).
        seed: seed from which every step's seed is derived.

    Example:
    >>> augment = PointCloudAugmentation(seed=1)
    >>> augment(np.random.rand(4, 256, 3), training=True).shape
    (4, 256, 3)
    """

    def __init__(
        self,
        shuffle=True,
        normalize=True,
        scale=(0.5, 2.0),
        max_angle=2.0 * math.pi,
        rotation_axis=1,
        translation=0.5,
        jitter=(0.01, 0.05),
        max_dropout_ratio=0.875,
        elastic=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.shuffle = shuffle
        self.normalize = normalize
        self.scale = tuple(scale) if scale is not None else None
        self.max_angle = max_angle
        self.rotation_axis = rotation_axis
        self.translation = translation
        self.jitter = tuple(jitter) if jitter is not None else None
        self.max_dropout_ratio = max_dropout_ratio
        self.elastic = dict(elastic) if elastic is not None else None
        self.seed = seed

        def step_seed(i):
            return None if seed is None else seed + i

        self.steps = []
        if shuffle:
            self.steps.append(RandomShuffle(seed=step_seed(0), name="shuffle"))
        if normalize:
            self.steps.append(UnitSphereNormalization(name="normalize"))
        if self.elastic is not None:
            self.steps.append(
                RandomElasticDeformation(
                    seed=step_seed(1), name="elastic", **self.elastic
                )
            )
        if self.scale is not None:
            self.steps.append(
                RandomScale(*self.scale, seed=step_seed(2), name="scale")
            )
        if max_angle is not None:
            self.steps.append(
                RandomRotation(
                    max_angle, rotation_axis, seed=step_seed(3), name="rotation"
                )
            )
        if translation is not None:
            self.steps.append(
                RandomTranslation(
                    translation, seed=step_seed(4), name="translation"
                )
            )
        if self.jitter is not None:
            self.steps.append(
                RandomJitter(*self.jitter, seed=step_seed(5), name="jitter")
            )
        if max_dropout_ratio is not None:
            self.steps.append(
                RandomPointDropout(
                    max_dropout_ratio, seed=step_seed(6), name="dropout"
                )
            )

    def build(self, input_shape):
        for step in self.steps:
            step.build(input_shape)

    def call(self, inputs, training=False):
        x = ops.cast(inputs, self.compute_dtype)
        for step in self.steps:
            x = step(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "shuffle": self.shuffle,
                "normalize": self.normalize,
                "scale": self.scale,
                "max_angle": self.max_angle,
                "rotation_axis": self.rotation_axis,
                "translation": self.translation,
                "jitter": self.jitter,
                "max_dropout_ratio": self.max_dropout_ratio,
                "elastic": self.elastic,
                "seed": self.seed,
            }
        )
        return config
