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
