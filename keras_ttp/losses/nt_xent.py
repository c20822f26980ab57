import keras
from keras import ops

from keras_ttp import distribution

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

    Under a `tf.distribute` strategy (tensorflow), every replica gathers
    every replica's `a` and `b` (`keras_ttp.distribution.gather_batch`):
    the negatives are the global batch's, and each replica computes the
    terms of its own samples, which Keras's reduction (by the local batch
    and the number of replicas) and the strategy's sum of gradients turn
    into the single-device loss and gradient on the global batch. With
    `gather_negatives=False` each replica keeps only its own samples as
    negatives (a smaller batch's objective, for comparison). On jax under
    `keras.distribution.DataParallel` the program sees the global batch
    either way; on one device the option changes nothing.

    Args:
        temperature: the temperature `t`.
        gather_negatives: gather the negatives across replicas.

    Example:
    >>> loss = NTXent(temperature=0.1)
    >>> a, b = np.random.rand(8, 16), np.random.rand(8, 16)
    >>> float(loss(a, b)) > 0
    True
    """

    def __init__(
        self,
        temperature=0.1,
        gather_negatives=True,
        reduction="sum_over_batch_size",
        name="nt_xent",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if temperature <= 0:
            raise ValueError(f"`temperature` must be positive, got {temperature}.")
        self.temperature = temperature
        self.gather_negatives = gather_negatives

    def call(self, y_true, y_pred):
        if not self.gather_negatives:
            return nt_xent(y_true, y_pred, self.temperature)
        (a_all, b_all), offset = distribution.gather_batch(y_true, y_pred)
        return nt_xent(y_true, y_pred, self.temperature, a_all, b_all, offset)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "temperature": self.temperature,
                "gather_negatives": self.gather_negatives,
            }
        )
        return config


def nt_xent(a, b, temperature=0.1, a_all=None, b_all=None, offset=0):
    """Per-sample symmetrised NT-Xent `(batch,)` of embeddings `a`, `b`.

    With `a_all`, `b_all` (a larger batch holding `a` and `b` as its rows
    `offset` to `offset + batch`, e.g. every replica's): the terms of the
    samples of `a` and `b`, with every sample of `a_all` and `b_all` as
    negatives. By default `a` and `b` themselves."""
    if a_all is None:
        a_all, b_all = a, b
    a, b = _normalize(a), _normalize(b)
    a_all, b_all = _normalize(a_all), _normalize(b_all)
    batch_size = ops.shape(a)[0]
    # This batch's samples in the larger one: their own similarity is masked.
    own = ops.arange(batch_size) + offset
    self_mask = ops.cast(
        ops.equal(own[:, None], ops.arange(ops.shape(a_all)[0])[None, :]), "float32"
    ) * _MASK_VALUE
    logits_ab = ops.matmul(a, ops.transpose(b_all)) / temperature
    logits_ba = ops.matmul(b, ops.transpose(a_all)) / temperature
    logits_aa = ops.matmul(a, ops.transpose(a_all)) / temperature + self_mask
    logits_bb = ops.matmul(b, ops.transpose(b_all)) / temperature + self_mask
    positives = ops.take_along_axis(logits_ab, own[:, None], axis=1)[:, 0]
    loss_a = ops.logsumexp(ops.concatenate([logits_ab, logits_aa], axis=1), axis=1)
    loss_b = ops.logsumexp(ops.concatenate([logits_ba, logits_bb], axis=1), axis=1)
    return (loss_a + loss_b) / 2.0 - positives


def _normalize(x):
    x = ops.cast(x, "float32")
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-12)
