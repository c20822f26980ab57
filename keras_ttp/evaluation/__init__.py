"""Evaluation protocols of ToThePoint (docs/design.md, section 3).

Every function takes numpy arrays; accuracies and IoUs are in percent.

- `extract_embeddings`: global features of a frozen backbone.
- `linear_svm_accuracy`, `select_svm_c`, `evaluate_linear_svm`: the linear
  SVM protocol (Table 3).
- `few_shot_episodes`, `few_shot_accuracy`: N-way K-shot (Table 4).
- `part_segmentation_metrics`, `parts_from_logits`: ShapeNetPart instance
  and class mIoU (Table 5).
- `point_utilization`: points used by max pooling and recycling (Table 1).
"""

from keras_ttp.evaluation.embeddings import extract_embeddings
from keras_ttp.evaluation.few_shot import few_shot_accuracy
from keras_ttp.evaluation.few_shot import few_shot_episodes
from keras_ttp.evaluation.linear_svm import evaluate_linear_svm
from keras_ttp.evaluation.linear_svm import linear_svm_accuracy
from keras_ttp.evaluation.linear_svm import select_svm_c
from keras_ttp.evaluation.part_segmentation import SHAPENET_PART_CATEGORIES
from keras_ttp.evaluation.part_segmentation import part_segmentation_metrics
from keras_ttp.evaluation.part_segmentation import parts_from_logits
from keras_ttp.evaluation.point_utilization import point_utilization
