"""`keras.random.normal` and `keras.random.uniform` for the augmentation
layers, the same numbers drawn faster under XLA on tensorflow.

Keras's tensorflow backend calls tensorflow's stateless random ops with
their default algorithm, "auto_select", which XLA compiles into much
slower code than the same Philox numbers with the algorithm named
(docs/performance.md). These functions name it; on the other backends
they are `keras.random`'s.

The first axis of `shape` is the batch axis: on one replica of a
tensorflow strategy every function returns this replica's rows of the draw
for the global batch (`keras_ttp.distribution.global_batch_draw`), so
replicas augment their clouds differently, and as one device would.
"""

import keras

from keras_ttp import distribution


def normal(shape, stddev, dtype, seed_generator):
    """`keras.random.normal(shape, stddev=stddev, dtype=dtype,
    seed=seed_generator)`."""
    if keras.backend.backend() != "tensorflow":
        return keras.random.normal(
            shape, stddev=stddev, dtype=dtype, seed=seed_generator
        )
    import tensorflow as tf

    return distribution.global_batch_draw(
        lambda shape: tf.random.stateless_normal(
            shape, tensorflow_seed(seed_generator), stddev=stddev,
            dtype=dtype, alg="philox",
        ),
        shape,
    )  # fmt: skip


def uniform(shape, minval, maxval, dtype, seed_generator):
    """`keras.random.uniform(shape, minval, maxval, dtype=dtype,
    seed=seed_generator)`."""
    if keras.backend.backend() != "tensorflow":
        return keras.random.uniform(
            shape, minval, maxval, dtype=dtype, seed=seed_generator
        )
    import tensorflow as tf

    return distribution.global_batch_draw(
        lambda shape: tf.random.stateless_uniform(
            shape, tensorflow_seed(seed_generator),
            minval=tf.cast(minval, dtype), maxval=tf.cast(maxval, dtype),
            dtype=dtype, alg="philox",
        ),
        shape,
    )  # fmt: skip


def randint(shape, minval, maxval, seed_generator):
    """`keras.random.randint(shape, minval, maxval, seed=seed_generator,
    dtype="int32")`, a global-batch draw like the others."""
    return distribution.global_batch_draw(
        lambda shape: keras.random.randint(
            shape, minval, maxval, seed=seed_generator, dtype="int32"
        ),
        shape,
    )


def tensorflow_seed(seed_generator):
    """The next seed of the `keras.random.SeedGenerator`, as Keras's
    tensorflow backend draws it and casts it to the int32 pair that
    tensorflow's stateless ops take."""
    import tensorflow as tf

    seed = seed_generator.next()
    if seed.dtype == tf.int32:
        return seed
    return tf.cast(tf.math.floormod(seed, tf.int32.max - 1), "int32")
