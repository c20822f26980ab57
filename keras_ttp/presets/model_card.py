"""The model card (`README.md`) of a preset, in the Hugging Face format."""

CITATION = """@inproceedings{li2023tothepoint,
  title = {ToThePoint: Efficient Contrastive Learning of 3D Point Clouds via Recycling},
  author = {Li, Xinglin and Chen, Jiajing and Ouyang, Jinhui and Deng, Hanhui and
            Velipasalar, Senem and Wu, Di},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and
               Pattern Recognition (CVPR)},
  year = {2023}
}"""

METHOD = (
    "ToThePoint (Li et al., CVPR 2023): contrastive pre-training in which the "
    "per-point features that max pooling discards are recycled as extra "
    "positives. The projection head is dropped after pre-training; the "
    "backbone's max-pooled feature is the representation."
)

NOT_RECORDED = "Not recorded."


def render_model_card(
    metadata,
    title=None,
    description=None,
    method=METHOD,
    data=NOT_RECORDED,
    settings=NOT_RECORDED,
    metrics=NOT_RECORDED,
    license="apache-2.0",
    citation=CITATION,
    handle="path/to/preset",
):
    """The text of a model card.

    Args:
        metadata: the preset's `metadata.json` content, listed under "Saved
            with".
        title, description: heading and first paragraph.
        method, data, settings, metrics: the card's sections; strings, or
            dicts rendered as `name: value` lists (e.g. `settings={"epochs":
            800}`, `metrics={"ModelNet10 linear SVM accuracy (%)": 91.2}`).
        license: a Hugging Face licence identifier.
        citation: BibTeX.
        handle: the preset's handle in the usage example.

    Example:
    >>> text = render_model_card({"class_name": "PointNet"}, data="ShapeNet-260")
    """
    class_name = metadata.get("class_name", "Backbone")
    title = title or f"keras-ttp {class_name}"
    description = description or f"A keras-ttp `{class_name}` preset."
    sections = {
        "Method": method,
        "Training data": data,
        "Settings": settings,
        "Metrics": metrics,
        "Saved with": metadata,
        "Licence": license,
    }
    body = "\n\n".join(
        f"## {name}\n\n{as_markdown(value)}" for name, value in sections.items()
    )
    return f"""---
library_name: keras
license: {license}
tags:
- keras-ttp
- point-cloud
- self-supervised-learning
---

# {title}

{description}

## Usage

```python
import keras_ttp

model = keras_ttp.models.{class_name}.from_preset("{handle}")
```

{body}

## Citation

```bibtex
{citation}
```
"""


def as_markdown(value):
    if isinstance(value, dict):
        return "\n".join(f"- {key}: {item}" for key, item in value.items())
    return str(value)
