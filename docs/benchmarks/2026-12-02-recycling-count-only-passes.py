"""How many count passes recycling's selection would need without the 32
fixed bisection steps, simulated in numpy on the products it selects from
in PointNet pre-training (tried and not adopted, 2026-12-02, session 5):

    python docs/benchmarks/2026-12-02-recycling-count-only-passes.py [data_dir]

`data_dir` holds `shapenet260/` (default: $KERAS_TTP_DATA_DIR, else
../shared/data). 32 of its clouds, 2048 points, go through ToThePoint's
augmentation (random input dropout included) and the PointNet trunk of the
`ttp_shapenet_pointnet` preset, with its weights (`trained`) and without
(`random`); the products of the pooling head's Dense, channels first
(1024, 2048) per cloud, are what the selection sees. `normal`: standard
normal values instead. One rank `r` per cloud, drawn as the layer does.

A pass is a comparison with one threshold per channel and a count (what
one bisection step costs). Two searches are simulated:

- `interpolation`: the index comes from one more mat-vec once a channel's
  bracket holds at most 2 candidates (the sum of their positions and of
  their squares). Six passes come first: the point-0 value's two counts
  (at and above it: dropout's copies tie there, and if the rank falls
  among them the answer is point 0), the moments of the other points (two
  mat-vecs), and two thresholds at a normal model's quantiles, 3 standard
  errors of the rank apart, for the bracket (a bracket still open on one
  side steps out from its other end, one standard deviation and doubling).
  Then regula falsi on the values (Illinois). Prints, after those 6 and `I` interpolation
  passes, how many of a cloud's 1024 channels still hold more than 2
  candidates (median and most over the clouds); each such channel would
  need the exact search.
- `bisection`: the shipped bisection on the keys, stopped once every
  channel's bracket holds one candidate or one key. Prints the steps that
  takes per cloud (32 = no saving).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402
from scipy.stats import norm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import keras_ttp  # noqa: E402
from keras_ttp.datasets.shapenet import load_shapenet_ply  # noqa: E402

CLOUDS, N = 32, 2048
INTERPOLATION_PASSES = (2, 4, 6, 8, 10, 12)


def products(data_dir):
    keras.utils.set_random_seed(0)  # the untrained trunk's weights
    points = load_shapenet_ply(os.path.join(data_dir, "shapenet260"), num_points=N).points
    rng = np.random.default_rng(1)
    points = np.asarray(points)[rng.choice(len(points), CLOUDS, replace=False)]
    augmented = keras_ttp.layers.PointCloudAugmentation(seed=3)(points, training=True)
    sets = {}
    for name, weights in (("trained", True), ("random", False)):
        backbone = keras_ttp.models.PointNet.from_preset(
            "ttp_shapenet_pointnet", load_weights=weights
        )
        head = backbone.pooling_head()
        features = ops.convert_to_numpy(head.trunk(augmented, training=False))
        kernel = ops.convert_to_numpy(head.dense.kernel)
        sets[name] = np.einsum("bnc,cd->bdn", features, kernel).astype("float32")
    sets["normal"] = rng.normal(size=(CLOUDS, 1024, N)).astype("float32")
    return sets


def keys(values):
    bits = np.asarray(values, np.float32).view(np.int32).astype(np.int64)
    return np.where(bits >= 0, bits, bits ^ 0x7FFFFFFF)


def values_of(keys):
    bits = np.asarray(keys, np.int64).astype(np.int32)
    return np.where(bits >= 0, bits, bits ^ 0x7FFFFFFF).astype(np.int32).view(np.float32)


def interpolation(x, needed):
    """Channels with more than 2 candidates after each of
    `INTERPOLATION_PASSES` interpolation passes."""
    channels, n = x.shape
    x = x.astype(np.float64)
    k = keys(x)
    # The bracket [low, high) of keys: count(>= low) >= needed > count(>= high).
    low, high = np.full(channels, -(2**31)), np.full(channels, 2**31)
    at_low, at_high = np.full(channels, n), np.zeros(channels, np.int64)

    def count(threshold):
        nonlocal low, high, at_low, at_high
        c = (k >= threshold[:, None]).sum(1)
        enough = c >= needed
        raise_low, lower_high = enough & (threshold > low), ~enough & (threshold < high)
        low, at_low = np.where(raise_low, threshold, low), np.where(raise_low, c, at_low)
        high, at_high = np.where(lower_high, threshold, high), np.where(lower_high, c, at_high)
        return enough

    first = k[:, 0]
    at_least_first = (k >= first[:, None]).sum(1)
    above_first = (k > first[:, None]).sum(1)
    count(first)
    count(first + 1)
    point_zero = (above_first < needed) & (at_least_first >= needed)
    ties = at_least_first - above_first
    rest = n - ties
    mean = (x.sum(1) - ties * x[:, 0]) / rest
    std = np.sqrt(np.maximum(((x * x).sum(1) - ties * x[:, 0] ** 2) / rest - mean**2, 1e-30))
    rank = np.where(above_first >= needed, needed, needed - ties)
    for side in (-3.0, 3.0):
        error = np.sqrt(np.maximum(rank * (rest - rank), 1)) / rest**1.5
        q = np.clip((rank - 0.5) / rest + side * error, 0.5 / rest, 1 - 0.5 / rest)
        count(keys(mean + std * norm.ppf(1 - q)))
    stuck_low = stuck_high = np.zeros(channels)
    reach = np.ones(channels)
    unresolved = {}
    for step in range(max(INTERPOLATION_PASSES) + 1):
        if step in INTERPOLATION_PASSES:
            unresolved[step] = int((((at_low - at_high) > 2) & ~point_zero).sum())
        has_low, has_high = low > -(2**31), high < 2**31
        lo = values_of(np.where(has_low, low, 0)).astype(np.float64)
        hi = values_of(np.where(has_high, high, 0)).astype(np.float64)
        weight_low = (at_low - needed + 0.5) * 0.5**stuck_low
        weight_high = (needed - 0.5 - at_high) * 0.5**stuck_high
        guess = lo + (hi - lo) * weight_low / (weight_low + weight_high)
        # A bracket open on one side steps out from its other end, `reach`
        # standard deviations, doubling until it closes.
        guess = np.where(has_low & ~has_high, lo + reach * std, guess)
        guess = np.where(~has_low & has_high, hi - reach * std, guess)
        reach = np.where(has_low & has_high, reach, 2 * reach)
        threshold = np.minimum(np.maximum(keys(guess), low + 1), high)
        enough = count(threshold)
        stuck_low = np.where(enough, 0, stuck_low + 1)
        stuck_high = np.where(enough, stuck_high + 1, 0)
    return unresolved


def bisection(x, needed):
    """Bisection steps until every channel holds one candidate or one key."""
    channels, n = x.shape
    k = keys(x)
    low, high = np.full(channels, -(2**31)), np.full(channels, 2**31 - 1)
    at_low, above_high = np.full(channels, n), np.zeros(channels, np.int64)
    for step in range(32):
        if (((at_low - above_high) <= 1) | (low == high)).all():
            return step
        middle = (low + high + 1) // 2
        c = (k >= middle[:, None]).sum(1)
        enough = c >= needed
        low, at_low = np.where(enough, middle, low), np.where(enough, c, at_low)
        high, above_high = np.where(enough, high, middle - 1), np.where(enough, above_high, c)
    return 32


def default_data_dir():
    return os.environ.get(
        "KERAS_TTP_DATA_DIR",
        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"),
    )


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else default_data_dir()
    rng = np.random.default_rng(0)
    for name, clouds in products(data_dir).items():
        needed = rng.integers(1, N, size=CLOUDS) + 1
        results = [interpolation(clouds[i], needed[i]) for i in range(CLOUDS)]
        for passes in INTERPOLATION_PASSES:
            left = [r[passes] for r in results]
            print(
                f"{name:7s} interpolation, 6 + {passes:2d} passes: channels left per cloud "
                f"median {int(np.median(left))}, most {max(left)}, "
                f"clouds with more than 32: {sum(n > 32 for n in left)} of {CLOUDS}",
                flush=True,
            )
        steps = [bisection(clouds[i], needed[i]) for i in range(CLOUDS)]
        print(f"{name:7s} bisection until isolated: steps per cloud {sorted(steps)}", flush=True)


if __name__ == "__main__":
    main()
