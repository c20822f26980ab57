import keras


def batch_norm(name, dtype=None):
    """BatchNormalization with PyTorch's defaults (momentum 0.1, eps 1e-5),
    which the authors' models use; every BatchNorm of keras-ttp is made
    here."""
    return keras.layers.BatchNormalization(
        momentum=0.9, epsilon=1e-5, dtype=dtype, name=name
    )
