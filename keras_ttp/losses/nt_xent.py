import keras
from keras import ops

# Added to the logits of a sample against itself: exp() of it is exactly 0 in
# float32, and, unlike -inf, it never turns a gradient into NaN.
_MASK_VALUE = -1e9


@keras.saving.register_keras_serializable(package="keras_ttp")
class NTXent(keras.losses.Loss):
    """The normalised-temperature cross-entropy loss of SimCLR (NT-Xent).

    Given two batches of embeddings `a` and `b` of shape `(batch, dim)`, the
    positive of `a_i` is `b_i` and its negatives are every other `a_k` and
    `b_k` (`k != i`); the loss is symmetrised over `(a, b)` and `(b, a)`:

        l(a_i, b_i) = -log( exp(s(a_i, b_i) / t) /
                            sum_k [exp(s(a_i, b_k) / t)]
                            + sum_{k != i} [exp(s(a_i, a_k) / t)] )
        loss_i = (l(a_i, b_i) + l(b_i, a_i)) / 2

    with `s` the cosine similarity. The default reduction averages `loss_i`
    over the batch, i.e. the mean over all `2 * batch` terms. Computed in
    float32 with log-sum-exp, whatever the dtype of the embeddings (mixed
    precision included).

    The call signature is Keras's `loss(y_true, y_pred)` with `y_true = a`
    and `y_pred = b`.

    Args:
        temperature: the temperature `t`.

    Example:
    >>> loss = NTXent(temperature=0.1)
    >>> a, b = np.random.rand(8, 16), np.random.rand(8, 16)
    >>> float(loss(a, b)) > 0
    True
    """

    def __init__(
        self,
        temperature=0.1,
        reduction="sum_over_batch_size",
        name="nt_xent",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if temperature <= 0:
            raise ValueError(f"`temperature` must be positive, got {temperature}.")
        self.temperature = temperature

    def call(self, y_true, y_pred):
        return nt_xent(y_true, y_pred, self.temperature)

    def get_config(self):
        config = super().get_config()
        config.update({"temperature": self.temperature})
        return config


def nt_xent(a, b, temperature=0.1):
    """Per-sample symmetrised NT-Xent `(batch,)` of embeddings `a`, `b`."""
    a = _normalize(a)
    b = _normalize(b)
    batch_size = ops.shape(a)[0]
    self_mask = ops.eye(batch_size, dtype="float32") * _MASK_VALUE
    logits_ab = ops.matmul(a, ops.transpose(b)) / temperature
    logits_aa = ops.matmul(a, ops.transpose(a)) / temperature + self_mask
    logits_bb = ops.matmul(b, ops.transpose(b)) / temperature + self_mask
    positives = ops.diagonal(logits_ab)
    loss_a = ops.logsumexp(ops.concatenate([logits_ab, logits_aa], axis=1), axis=1)
    loss_b = ops.logsumexp(
        ops.concatenate([ops.transpose(logits_ab), logits_bb], axis=1), axis=1
    )
    return (loss_a + loss_b) / 2.0 - positives


def _normalize(x):
    x = ops.cast(x, "float32")
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-12)
