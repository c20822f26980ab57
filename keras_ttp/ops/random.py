"""`keras.random.normal` and `keras.random.uniform` for the augmentation
layers, the same numbers drawn faster under XLA on tensorflow.

Keras's tensorflow backend calls tensorflow's stateless random ops with
their default algorithm, "auto_select", which XLA compiles into much
slower code than the same Philox numbers with the algorithm named
(docs/performance.md). These functions name it; on the other backends
they are `keras.random`'s.
"""

import keras


def normal(shape, stddev, dtype, seed_generator):
    """`keras.random.normal(shape, stddev=stddev, dtype=dtype,
    seed=seed_generator)`."""
    if keras.backend.backend() != "tensorflow":
        return keras.random.normal(
            shape, stddev=stddev, dtype=dtype, seed=seed_generator
        )
    import tensorflow as tf

    return tf.random.stateless_normal(
        shape, tensorflow_seed(seed_generator), stddev=stddev, dtype=dtype,
        alg="philox",
    )  # fmt: skip


def uniform(shape, minval, maxval, dtype, seed_generator):
    """`keras.random.uniform(shape, minval, maxval, dtype=dtype,
    seed=seed_generator)`."""
    if keras.backend.backend() != "tensorflow":
        return keras.random.uniform(
            shape, minval, maxval, dtype=dtype, seed=seed_generator
        )
    import tensorflow as tf

    return tf.random.stateless_uniform(
        shape, tensorflow_seed(seed_generator), minval=tf.cast(minval, dtype),
        maxval=tf.cast(maxval, dtype), dtype=dtype, alg="philox",
    )  # fmt: skip


def tensorflow_seed(seed_generator):
    """The next seed of the `keras.random.SeedGenerator`, as Keras's
    tensorflow backend draws it and casts it to the int32 pair that
    tensorflow's stateless ops take."""
    import tensorflow as tf

    seed = seed_generator.next()
    if seed.dtype == tf.int32:
        return seed
    return tf.cast(tf.math.floormod(seed, tf.int32.max - 1), "int32")
