"""Where keras-ttp's ops ask whether they are being compiled by XLA.

Some ops have two formulations that give the same values: one that XLA
compiles well on CPUs, one that the eager backends and torch run well
(docs/performance.md). They choose with `compiling_with_xla`, and run the
batch one sample at a time under XLA with `one_sample_at_a_time_under_xla`.
"""

import keras


def compiling_with_xla(tensor):
    """Whether `tensor` is being traced for XLA: under `jax.jit` (any jax
    tracer), or in a tensorflow function compiled with `jit_compile=True`.
    On tensorflow this asks the graph for its XLA context, with
    tensorflow's internal helper: there is no public one."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return isinstance(tensor, jax.core.Tracer)
    if backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.ops import control_flow_util

        return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
    return False


def one_sample_at_a_time_under_xla(function, *tensors):
    """`function(*tensors)` for `tensors` with a leading batch axis; under
    XLA one sample at a time (`ops.map`, `function` seeing batches of 1),
    so that a sample's intermediates stay in the CPU's cache and XLA does
    not fuse the function into the surrounding backward pass."""
    if not compiling_with_xla(tensors[0]):
        return function(*tensors)
    return keras.ops.map(
        lambda sample: function(*(part[None] for part in sample))[0], tensors
    )
