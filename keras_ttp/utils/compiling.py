import keras


def compile_from_saved_config(model, config):
    """`compile_from_config` for models that override `compile`.

    Keras skips a saved compile config for such models (with a warning), so a
    loaded `.keras` file would come back without its optimizer and the
    optimizer's state (which resuming needs). This compiles `model` with the
    saved arguments through its own `compile`, then builds the optimizer so
    the saved state can be loaded into it.
    """
    model.compile(**keras.saving.deserialize_keras_object(config))
    if model.built:
        model.optimizer.build(model.trainable_variables)


def use_xla_on_tensorflow(model, jit_compile):
    """After `compile(jit_compile=jit_compile)`: turns `"auto"` into XLA on
    the tensorflow backend.

    Keras's own "auto" turns XLA off for tensorflow on CPUs, where it is the
    faster setting for these models: a ToThePoint pre-training step measured
    2.7x (PointNet) and 2.4x (DGCNN) faster in the table of 2026-12-02
    (docs/benchmarks/2026-12-02-table-full-c0757ae.txt), a
    `PointCloudClassifier` step 1.1x when it was introduced (commit
    42738c0). The saved compile config keeps what Keras's "auto" resolved
    to, so a model saved on tensorflow does not turn on `torch.compile`
    when loaded on torch.
    Not under a tf.distribute strategy with several replicas: Keras
    compiles the whole `strategy.run` step, which XLA rejects (a replica's
    variables live on another device).
    """
    if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
        model.jit_compile = model.distribute_strategy.num_replicas_in_sync == 1


def compiling_with_xla(tensor):
    """Whether `tensor` is being traced for XLA: under `jax.jit` (any jax
    tracer), or in a tensorflow function compiled with `jit_compile=True`.
    Lets an op pick the formulation XLA compiles well (e.g. `knn`). On
    tensorflow this asks the graph for its XLA context, with tensorflow's
    internal helper: there is no public one."""
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
    XLA one sample at a time (`ops.map`, `function` seeing batches of 1).
    Used where that measured faster (docs/benchmarks/): recycling's
    selection and kNN, whose per-sample intermediates then stay in the
    CPU's cache; EdgeConv's neighbour search, which XLA would otherwise
    fuse into the backward pass's scatter."""
    if not compiling_with_xla(tensors[0]):
        return function(*tensors)
    return keras.ops.map(
        lambda sample: function(*(part[None] for part in sample))[0], tensors
    )
