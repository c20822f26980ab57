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
    faster setting for these models (docs/performance.md). The saved
    compile config keeps what Keras's "auto" resolved to, so a model saved
    on tensorflow does not turn on `torch.compile` when loaded on torch.
    Not under a tf.distribute strategy with several replicas: Keras
    compiles the whole `strategy.run` step, which XLA rejects (a replica's
    variables live on another device).
    """
    if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
        model.jit_compile = model.distribute_strategy.num_replicas_in_sync == 1
