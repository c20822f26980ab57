import keras
from keras import ops

from keras_ttp import distribution
from keras_ttp.layers.augmentation import PointCloudAugmentation
from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.layers.recycling_max_pooling import RecycledRank
from keras_ttp.losses.nt_xent import NTXent
from keras_ttp.distribution import MultiWorkerLogs
from keras_ttp.models.checks import ChecksInputPoints
from keras_ttp.utils.arguments import check_keyword_arguments
from keras_ttp.utils.compiling import compile_from_saved_config
from keras_ttp.utils.compiling import use_xla_on_tensorflow


@keras.saving.register_keras_serializable(package="keras_ttp")
class ToThePoint(ChecksInputPoints, MultiWorkerLogs, keras.Model):
    """ToThePoint contrastive pre-training (Li et al., CVPR 2023).

    Every cloud is augmented twice; both views go through the backbone; the
    per-point features are max-pooled and, with recycling, a recycled
    feature (every channel's `(r + 1)`-th largest value, `r` random) is taken
    from the same matrix; a shared projection head maps each feature to the
    contrastive space. The loss is

        L = NTXent(z_max1, z_r1) + NTXent(z_max2, z_r2) + NTXent(z_max1, z_max2)

    (intra-branch 1, intra-branch 2, cross-branch), each term logged by `fit`
    as `intra_branch_1_loss`, `intra_branch_2_loss` and `cross_branch_loss`.
    The paper's ablations: `recycling=False` keeps only the cross-branch term
    (two branches without recycling); `branches=1` keeps only the
    intra-branch term of one branch.

    After pre-training, use `pretrainer.backbone`: the projection head is
    only for the contrastive loss.

    Args:
        backbone: a `keras_ttp.models.Backbone` (`PointNet`, `DGCNN`).
        projection_dims: widths of the projection head, `Dense + BatchNorm +
            ReLU` for all but the last, which is a plain `Dense`.
        temperature: NT-Xent temperature.
        recycling: use the recycled features (the intra-branch terms).
        branches: 2 (the method) or 1 (the one-branch ablation).
        stop_gradient_recycled: stop the gradient through the recycled
            feature; `None` takes the backbone's default (the authors stop it
            for PointNet, not for DGCNN).
        per_sample_rank: draw the recycled rank `r` per sample instead of
            once per forward pass.
        augmentation: the augmentation layer making the views; defaults to
            `PointCloudAugmentation(seed=seed)` (the authors' settings).
        seed: seed of the augmentation and of the rank draws.
        gather_negatives: under a `tf.distribute` strategy, every NT-Xent
            term takes its negatives from the global batch (every
            replica's projections gathered); `False` keeps each replica's
            own (`NTXent`'s option). Data-parallel training:
            docs/distributed.md.

    Example:
    >>> pretrainer = ToThePoint(backbone=PointNet(), seed=0)
    >>> pretrainer.compile()  # Adam(1e-3, weight_decay=1e-4)
    >>> history = pretrainer.fit(points, epochs=1, batch_size=32)
    >>> encoder = pretrainer.backbone
    """

    def __init__(
        self,
        backbone,
        projection_dims=(512, 256),
        temperature=0.1,
        recycling=True,
        branches=2,
        stop_gradient_recycled=None,
        per_sample_rank=False,
        augmentation=None,
        seed=None,
        gather_negatives=True,
        **kwargs,
    ):
        check_keyword_arguments(type(self), kwargs)
        super().__init__(**kwargs)
        if branches not in (1, 2):
            raise ValueError(f"`branches` must be 1 or 2, got {branches}.")
        if branches == 1 and not recycling:
            raise ValueError(
                "One branch without recycling has no positive pair: use "
                "`recycling=True` or `branches=2`."
            )
        if stop_gradient_recycled is None:
            stop_gradient_recycled = backbone.recycled_stop_gradient
        self.backbone = backbone
        self.projection_dims = tuple(projection_dims)
        self.temperature = temperature
        self.recycling = recycling
        self.branches = branches
        self.stop_gradient_recycled = stop_gradient_recycled
        self.per_sample_rank = per_sample_rank
        self.seed = seed
        self.augmentation = augmentation or PointCloudAugmentation(
            seed=seed, name="augmentation"
        )
        self.recycled_rank = RecycledRank(
            per_sample=per_sample_rank,
            seed=None if seed is None else seed + 100,
            name="recycled_rank",
        )
        self.projection_head = projection_head(self.projection_dims, self.dtype_policy)
        self.gather_negatives = gather_negatives
        self.loss_fn = NTXent(
            temperature=temperature, gather_negatives=gather_negatives
        )
        self.term_names = []
        if recycling:
            self.term_names += [f"intra_branch_{i}_loss" for i in range(1, branches + 1)]
        if branches == 2:
            self.term_names.append("cross_branch_loss")
        self.term_trackers = [keras.metrics.Mean(name=n) for n in self.term_names]

    def build(self, input_shape):
        embedding_dim = self.backbone.output["global_features"].shape[-1]
        self.projection_head.build((None, embedding_dim))
        self.built = True

    def call(self, inputs, training=False):
        """Returns the projections `{"max_1": z, "recycled_1": z, ...}`.

        The views are always augmented: they are the method's positives, in
        training and evaluation alike. `training` drives BatchNormalization.
        """
        outputs = {}
        for branch in range(1, self.branches + 1):
            view = self.augmentation(inputs, training=True)
            rank = self.recycled_rank(view) if self.recycling else None
            maximum, recycled = self.backbone.pool(view, training=training, rank=rank)
            if self.recycling:
                if self.stop_gradient_recycled:
                    recycled = ops.stop_gradient(recycled)
                outputs[f"recycled_{branch}"] = self.projection_head(
                    recycled, training=training
                )
            outputs[f"max_{branch}"] = self.projection_head(
                maximum, training=training
            )
        return outputs

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        terms = []
        if self.recycling:
            for branch in range(1, self.branches + 1):
                terms.append(
                    self.loss_fn(y_pred[f"max_{branch}"], y_pred[f"recycled_{branch}"])
                )
        if self.branches == 2:
            terms.append(self.loss_fn(y_pred["max_1"], y_pred["max_2"]))
        # Under a tf.distribute strategy a term is this replica's share
        # (Keras divides it by the number of replicas); the trackers log it
        # whole, as Keras's own loss tracker does.
        for tracker, term in zip(self.term_trackers, terms):
            tracker.update_state(distribution.unscale_loss(term))
        total = ops.sum(ops.stack(terms))
        for loss in self.losses:
            total = total + distribution.scale_loss(ops.sum(ops.cast(loss, "float32")))
        return total

    def compile(self, optimizer=None, jit_compile="auto", **kwargs):
        """Compiles with the authors' optimiser by default: Adam, learning
        rate 1e-3, weight decay 1e-4 (Keras applies it decoupled, as AdamW,
        where PyTorch's Adam adds it to the gradient).

        `jit_compile="auto"` turns XLA on for the tensorflow backend, where
        Keras's own "auto" turns it off on CPUs (`use_xla_on_tensorflow`).
        Pass `jit_compile=False` to turn it off."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(learning_rate=1e-3, weight_decay=1e-4)
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)
        use_xla_on_tensorflow(self, jit_compile)

    def compile_from_config(self, config):
        compile_from_saved_config(self, config)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "projection_dims": list(self.projection_dims),
                "temperature": self.temperature,
                "recycling": self.recycling,
                "branches": self.branches,
                "stop_gradient_recycled": self.stop_gradient_recycled,
                "per_sample_rank": self.per_sample_rank,
                "augmentation": keras.saving.serialize_keras_object(
                    self.augmentation
                ),
                "seed": self.seed,
                "gather_negatives": self.gather_negatives,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "augmentation"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def projection_head(dims, dtype=None):
    """`Dense + BatchNorm + ReLU` for every width but the last, then `Dense`."""
    layers = []
    for i, units in enumerate(dims[:-1]):
        layers += [
            keras.layers.Dense(units, name=f"dense{i + 1}", dtype=dtype),
            batch_norm(f"dense{i + 1}_bn", dtype),
            keras.layers.ReLU(name=f"dense{i + 1}_relu", dtype=dtype),
        ]
    layers.append(keras.layers.Dense(dims[-1], name=f"dense{len(dims)}", dtype=dtype))
    return keras.Sequential(layers, name="projection_head")
