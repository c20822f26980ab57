import keras


@keras.saving.register_keras_serializable(package="keras_ttp")
class Backbone(keras.Model):
    """Base class of the point-cloud backbones.

    A backbone is a functional model from point clouds `(batch, num_points,
    3)`, any number of points, to a dict with the per-point features
    `"point_features"` `(batch, num_points, dim)` and the max-pooled global
    feature `"global_features"` `(batch, dim)`. Subclasses build their layers
    and functional graph in `__init__` and list their constructor arguments
    in `get_config`.

    Calling a backbone on a tensor whose shape is wrong raises a `ValueError`
    that says what was expected.
    """

    # Fewest points a subclass can handle (DGCNN needs at least k).
    min_points = 1
    # Whether ToThePoint stops the gradient through the recycled feature by
    # default for this backbone (the authors' choice per backbone).
    recycled_stop_gradient = False

    def __call__(self, inputs, *args, **kwargs):
        self.check_points_shape(getattr(inputs, "shape", None))
        return super().__call__(inputs, *args, **kwargs)

    def check_points_shape(self, shape):
        if shape is None:
            return
        shape = tuple(shape)
        if len(shape) != 3 or shape[-1] != 3:
            raise ValueError(
                f"{self.__class__.__name__} expects point clouds of shape "
                f"(batch, num_points, 3), got shape {shape}. A single cloud "
                "needs a batch axis: use `points[None]`."
            )
        num_points = shape[1]
        if num_points is not None and num_points < self.min_points:
            raise ValueError(
                f"{self.__class__.__name__} needs at least {self.min_points} "
                f"points per cloud, got shape {shape}."
            )

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
