"""What data-parallel ToThePoint pre-training communicates per step, by
counting (docs/distributed.md, "Scale").

    KERAS_BACKEND=jax python tools/communication.py

Per device and step, with D devices and a ring all-reduce (each device
sends and receives 2 (D - 1) / D times the reduced bytes):

- the gradient all-reduce of every trainable weight (backbone and
  projection head), float32;
- the projections gathered for NT-Xent's negatives (tensorflow: six
  `(global batch, 256)` float32 tensors, z_max and z_r of both branches,
  a pair per term, each an all-reduce forward and one backward;
  jax/XLA: the same tensors, as XLA chooses to move them).
"""

import argparse

import keras

from keras_ttp.models import DGCNN
from keras_ttp.models import PointNet
from keras_ttp.models import ToThePoint

PAPER_BATCH = {"PointNet": 128, "DGCNN": 32}
PROJECTION_DIM = 256
GATHERED_TENSORS = 6


def ring(bytes_, devices):
    return 2 * (devices - 1) / devices * bytes_


def mib(bytes_):
    return bytes_ / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[8, 64, 512])
    args = parser.parse_args()
    print("backbone  trainable(backbone)  trainable(+projection head)  grad MiB")
    rows = []
    for name, backbone in (("PointNet", PointNet()), ("DGCNN", DGCNN())):
        model = ToThePoint(backbone)
        model.build((None, 64, 3))
        trainable = sum(
            int(keras.ops.size(w)) for w in model.trainable_weights
        )
        backbone_params = sum(
            int(keras.ops.size(w)) for w in backbone.trainable_weights
        )
        print(
            f"{name:9s} {backbone_params:>20,d} {trainable:>28,d} "
            f"{mib(4 * trainable):9.2f}"
        )
        rows.append((name, trainable))
    print()
    print(
        "backbone  devices  per-device batch  global batch  "
        "gradient MiB/step  projections MiB/step  (ring, sent per device)"
    )
    for name, trainable in rows:
        per_device = PAPER_BATCH[name]
        for devices in args.devices:
            global_batch = per_device * devices
            gradient = ring(4 * trainable, devices)
            projections = 2 * GATHERED_TENSORS * ring(
                4 * global_batch * PROJECTION_DIM, devices
            )
            print(
                f"{name:9s} {devices:7d} {per_device:17d} {global_batch:13d} "
                f"{mib(gradient):18.2f} {mib(projections):21.2f}"
            )


if __name__ == "__main__":
    main()
