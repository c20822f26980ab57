"""Part-segmentation metrics of ShapeNetPart: instance and class mIoU."""

import numpy as np

# The 16 ShapeNetPart categories, in their standard order (category index),
# and the global ids of their 50 parts.
SHAPENET_PART_CATEGORIES = {
    "Airplane": (0, 1, 2, 3),
    "Bag": (4, 5),
    "Cap": (6, 7),
    "Car": (8, 9, 10, 11),
    "Chair": (12, 13, 14, 15),
    "Earphone": (16, 17, 18),
    "Guitar": (19, 20, 21),
    "Knife": (22, 23),
    "Lamp": (24, 25, 26, 27),
    "Laptop": (28, 29),
    "Motorbike": (30, 31, 32, 33, 34, 35),
    "Mug": (36, 37),
    "Pistol": (38, 39, 40),
    "Rocket": (41, 42, 43),
    "Skateboard": (44, 45, 46),
    "Table": (47, 48, 49),
}


def category_indices(categories, category_parts=SHAPENET_PART_CATEGORIES):
    """Category of each shape as an index into `category_parts`.

    Args:
        categories: `(S,)` (or `(S, 1)`) category indices, or category names
            (case-insensitive), e.g. `["Airplane", "bag"]`.
        category_parts: dict from category name to its part ids.

    Returns:
        int array `(S,)`.
    """
    names = list(category_parts)
    categories = np.asarray(categories)
    if categories.ndim == 2 and categories.shape[1] == 1:
        categories = categories[:, 0]
    if categories.ndim != 1:
        raise ValueError(
            f"`categories` must have shape (num_shapes,), got {categories.shape}."
        )
    if categories.dtype.kind in "USO":
        lookup = {name.lower(): i for i, name in enumerate(names)}
        unknown = sorted({str(c) for c in categories if str(c).lower() not in lookup})
        if unknown:
            raise ValueError(f"Unknown categories {unknown}; known: {names}.")
        return np.array([lookup[str(c).lower()] for c in categories], dtype="int64")
    if categories.size and (
        categories.dtype.kind not in "iu"
        or categories.min() < 0
        or categories.max() >= len(names)
    ):
        raise ValueError(
            f"Category indices must be integers in [0, {len(names)}), got "
            f"{categories.dtype} values in [{categories.min()}, "
            f"{categories.max()}]."
        )
    return categories.astype("int64")


def category_part_mask(categories, category_parts=SHAPENET_PART_CATEGORIES):
    """Boolean `(S, num_parts)`: which part ids belong to each shape's
    category."""
    num_parts = 1 + max(max(parts) for parts in category_parts.values())
    table = np.zeros((len(category_parts), num_parts), dtype=bool)
    for row, parts in enumerate(category_parts.values()):
        table[row, list(parts)] = True
    return table[category_indices(categories, category_parts)]


def parts_from_logits(logits, categories, category_parts=SHAPENET_PART_CATEGORIES):
    """Predicted part of each point, restricted to its shape's category.

    The standard ShapeNetPart evaluation: the arg-max is taken over the parts
    of the shape's (known) category only.

    Args:
        logits: float array `(S, N, 50)` of per-point part scores.
        categories: `(S,)` category indices or names.
        category_parts: dict from category name to its part ids.

    Returns:
        int64 array `(S, N)` of part ids.

    Example:
    >>> logits = np.zeros((1, 2, 50)); logits[0, :, 12] = 5.0; logits[0, 1, 2] = 1.0
    >>> parts_from_logits(logits, ["Airplane"])  # part 12 is a Chair part
    array([[0, 2]])
    """
    logits = np.asarray(logits)
    mask = category_part_mask(categories, category_parts)
    if logits.ndim != 3 or logits.shape[0] != len(mask):
        raise ValueError(
            f"`logits` must have shape ({len(mask)}, num_points, "
            f"{mask.shape[1]}), one row of scores per point, got {logits.shape}."
        )
    if logits.shape[2] != mask.shape[1]:
        raise ValueError(
            f"`logits` must score {mask.shape[1]} parts, got {logits.shape[2]}."
        )
    return np.where(mask[:, None, :], logits, -np.inf).argmax(axis=-1)


def part_segmentation_metrics(
    pred_parts, true_parts, categories, category_parts=SHAPENET_PART_CATEGORIES
):
    """Instance mIoU, class mIoU and accuracy of a part segmentation.

    For every shape, the IoU of each part of its category is computed, a
    part absent from both prediction and truth counting as IoU 1 (the
    PointNet convention), and averaged into the shape's IoU.

    - instance mIoU: the mean of the shape IoUs;
    - class mIoU: the mean over the categories present of the mean shape IoU
      of that category;
    - accuracy: the fraction of points whose part is right.

    Args:
        pred_parts: int array `(S, N)` of predicted part ids, or logits
            `(S, N, 50)`, which `parts_from_logits` turns into the best part
            of the shape's category. Shapes with different numbers of points
            may be passed as a list of `(N_i,)` (or `(N_i, 50)`) arrays.
        true_parts: int array `(S, N)` (or a list of `(N_i,)` arrays) of true
            part ids.
        categories: `(S,)` category indices or names.
        category_parts: dict from category name to its part ids; the
            ShapeNetPart table by default.

    Returns:
        A dict, all values in percent: `"instance_miou"`, `"class_miou"`,
        `"accuracy"`, `"category_iou"` (name -> mean shape IoU, for the
        categories present) and `"shape_iou"` (array `(S,)`).

    Example:
    >>> true = np.array([[0, 0, 1, 2]])
    >>> pred = np.array([[0, 1, 1, 2]])
    >>> part_segmentation_metrics(pred, true, ["Airplane"])["instance_miou"]
    75.0
    """
    categories = category_indices(categories, category_parts)
    mask = category_part_mask(categories, category_parts)
    num_shapes, num_parts = mask.shape
    true_parts = [np.asarray(t) for t in true_parts]
    pred_parts = [np.asarray(p) for p in pred_parts]
    if not len(true_parts) == len(pred_parts) == num_shapes:
        raise ValueError(
            f"Got {len(pred_parts)} predictions, {len(true_parts)} truths and "
            f"{num_shapes} categories: one of each per shape is needed."
        )
    if num_shapes == 0:
        raise ValueError("No shapes to evaluate.")
    for i, (pred, true) in enumerate(zip(pred_parts, true_parts)):
        if pred.ndim == 2:
            pred = pred_parts[i] = parts_from_logits(
                pred[None], categories[i : i + 1], category_parts
            )[0]
        if true.ndim != 1 or pred.shape != true.shape:
            raise ValueError(
                f"Shape {i}: predicted parts {pred.shape} and true parts "
                f"{true.shape} must both be (num_points,) (or logits "
                f"(num_points, {num_parts}) for the prediction)."
            )
    lengths = [len(t) for t in true_parts]
    shape_index = np.repeat(np.arange(num_shapes), lengths)
    true = np.concatenate(true_parts)
    pred = np.concatenate(pred_parts)
    for name, values in [("pred_parts", pred), ("true_parts", true)]:
        if values.dtype.kind not in "iu" or (
            values.size and (values.min() < 0 or values.max() >= num_parts)
        ):
            raise ValueError(
                f"`{name}` must be integer part ids in [0, {num_parts})."
            )
    foreign = ~mask[shape_index, true]
    if foreign.any():
        i = shape_index[np.argmax(foreign)]
        raise ValueError(
            f"Shape {i} has true part {true[foreign][0]}, which is not a part "
            f"of its category {list(category_parts)[categories[i]]}: are the "
            "categories right?"
        )

    def count(ids):
        counts = np.bincount(ids, minlength=num_shapes * num_parts)
        return counts.reshape(num_shapes, num_parts)

    correct = pred == true
    intersection = count(shape_index[correct] * num_parts + true[correct])
    union = (
        count(shape_index * num_parts + pred)
        + count(shape_index * num_parts + true)
        - intersection
    )
    iou = np.where(union > 0, intersection / np.maximum(union, 1), 1.0)
    shape_iou = (iou * mask).sum(axis=1) / mask.sum(axis=1)
    names = list(category_parts)
    category_iou = {
        names[c]: 100.0 * float(shape_iou[categories == c].mean())
        for c in np.unique(categories)
    }
    return {
        "instance_miou": 100.0 * float(shape_iou.mean()),
        "class_miou": float(np.mean(list(category_iou.values()))),
        "accuracy": 100.0 * float(correct.mean()),
        "category_iou": category_iou,
        "shape_iou": 100.0 * shape_iou,
    }
