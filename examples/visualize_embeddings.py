"""
Title: t-SNE of point-cloud embeddings
Description: embeds the test shapes with a frozen encoder, maps the global
features to 2-D with t-SNE (`sklearn.manifold.TSNE`) and draws them, one
colour per class, as a PNG: a panel for a randomly initialised encoder and,
with `--preset`, one for a pre-trained encoder beside it, like the paper's
Fig. 3.

matplotlib is not a dependency of keras-ttp, so the picture is drawn
without it: each shape is a filled disc rasterised into a numpy image,
written as a PNG with `zlib` and `struct`. There is no text in the image:
the script prints which colour is which class (and writes it to the JSON
results), as well as each panel's silhouette score (by class, on the
embeddings themselves: from -1 to 1, higher when the classes are apart).

By default the data are the built-in synthetic shapes (six classes of
primitive solids, generated, no download; not real objects). With
`--data-dir` pointing at a folder holding `modelnet10_ply_hdf5_2048/`,
the ModelNet10 test split.

    python examples/visualize_embeddings.py --image tsne.png
    python examples/visualize_embeddings.py --preset runs/ttp_pointnet --data-dir ../shared/data
"""

import struct
import zlib

import numpy as np
from sklearn import manifold
from sklearn import metrics

import keras_ttp

import common  # examples/common.py

# === Settings ===
SETTINGS = {
    "backbone": "pointnet",  # without --preset; or "dgcnn"
    "embedding_dim": 1024,  # without --preset
    "num_points": 1024,
    "num_per_class": 40,  # synthetic shapes per class
    "perplexity": 30.0,  # of t-SNE (at most the number of shapes - 1)
    "panel_size": 480,  # pixels, each panel is square
    "batch_size": 32,
    "seed": 0,
}
# Colours of the classes (the "tab10" palette), then random ones.
PALETTE = ["1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd",
           "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"]  # fmt: skip


def image_flag(parser):
    parser.add_argument("--image", default="tsne.png", help="the PNG to write")


def class_colours(num_classes, seed=0):
    """RGB uint8 `(num_classes, 3)`: the palette, then seeded random colours."""
    colours = [[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in PALETTE]
    extra = np.random.default_rng(seed).integers(0, 200, (max(0, num_classes - 10), 3))
    return np.concatenate([colours, extra]).astype("uint8")[:num_classes]


def draw_scatter(xy, colour_of, size, radius=4, margin=12):
    """An RGB image `(size, size, 3)`, white, with a disc of colour
    `colour_of[i]` at each 2-D point `xy[i]` (scaled to fit)."""
    image = np.full((size, size, 3), 255, "uint8")
    low, high = xy.min(0), xy.max(0)
    scale = (size - 2 * margin) / np.maximum(high - low, 1e-9).max()
    pixels = np.round(margin + (xy - low) * scale).astype(int)
    pixels[:, 1] = size - 1 - pixels[:, 1]  # y grows upwards
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disc = dx**2 + dy**2 <= radius**2
    for (x, y), colour in zip(pixels, colour_of):
        rows = np.clip(y + dy[disc], 0, size - 1)
        cols = np.clip(x + dx[disc], 0, size - 1)
        image[rows, cols] = colour
    return image


def write_png(path, image):
    """Writes an RGB uint8 image `(height, width, 3)` as an 8-bit PNG."""
    height, width, _ = image.shape
    rows = b"".join(b"\x00" + row.tobytes() for row in image)  # filter: none

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                   + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    args, _, test, data = common.classification_setup(
        __doc__, SETTINGS, extra=image_flag, files=("output", "image")
    )
    colours = class_colours(len(test.class_names), args.seed)
    legend = {name: f"#{bytes(c).hex()}" for name, c in zip(test.class_names, colours)}
    print(f"Data: {data}, test split ({len(test)} shapes)")
    print("Colours: " + ", ".join(f"{name} {c}" for name, c in legend.items()))
    panels, silhouette = [], {}
    for name, backbone in common.backbones(args):
        features = keras_ttp.evaluation.extract_embeddings(
            backbone, test.points[:, : args.num_points], args.batch_size
        )
        silhouette[name] = float(metrics.silhouette_score(features, test.labels))
        tsne = manifold.TSNE(
            perplexity=min(args.perplexity, len(features) - 1),
            init="pca",
            random_state=args.seed,
        )
        xy = tsne.fit_transform(features)
        panels.append(draw_scatter(xy, colours[test.labels], args.panel_size))
        print(f"t-SNE panel {len(panels)}: {name} (silhouette {silhouette[name]:.3f})")
    gap = np.full((args.panel_size, 8, 3), 160, "uint8")
    write_png(args.image, np.concatenate([p for panel in panels for p in (panel, gap)][:-1], 1))
    print(f"Image written to {args.image} (panels left to right: {', '.join(silhouette)})")
    common.finish(args, SETTINGS, data, {
        "image": args.image, "panels": list(silhouette), "colours": legend,
        "silhouette": silhouette,
    })  # fmt: skip


if __name__ == "__main__":
    main()
