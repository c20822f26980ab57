"""Constructor keyword arguments: a misspelled one is an error, never
silently ignored."""

import inspect

# What `keras.Model.__init__` takes besides a subclass's own arguments.
MODEL_KEYWORDS = ("name", "trainable", "dtype")


def check_keyword_arguments(cls, kwargs, allowed=MODEL_KEYWORDS):
    """Raises `TypeError` for the keyword arguments in `kwargs` that neither
    `cls`'s constructor nor Keras (`allowed`) takes, listing those accepted:
    a misspelled argument must not be silently ignored."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    accepted = [
        p.name for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]  # fmt: skip
    accepted += [name for name in allowed if name not in accepted]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"{cls.__name__} got unexpected keyword argument(s) "
            f"{', '.join(repr(name) for name in unknown)}. It accepts: "
            f"{', '.join(accepted)}."
        )
