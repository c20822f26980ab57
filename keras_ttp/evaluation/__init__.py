"""Evaluation protocols of ToThePoint (docs/design.md, section 3).

Every function takes numpy arrays; accuracies and IoUs are in percent.

- `extract_embeddings`: global features of a frozen backbone.
- `linear_svm_accuracy`, `select_svm_c`, `evaluate_linear_svm`: the linear
  SVM protocol (Table 3).
- `fair_svm_accuracy`, `cross_validate_svm_c`: the fair column (features
  standardised on train, C by 5-fold cross-validation on train).
- `validation_split`, `stratified_subset`: the fixed validation split and
  labelled subsets of a train set.
- `robustness_accuracy`, `rotate_about_vertical`, `subsample_points`,
  `jitter_points`: the SVM on rotated, sparser and noisier clouds.
- `few_shot_episodes`, `few_shot_accuracy`: N-way K-shot (Table 4).
- `part_segmentation_metrics`, `parts_from_logits`: ShapeNetPart instance
  and class mIoU (Table 5).
- `point_utilization`: points used by max pooling and recycling (Table 1).
"""

from keras_ttp.evaluation.embeddings import extract_embeddings
from keras_ttp.evaluation.few_shot import few_shot_accuracy
from keras_ttp.evaluation.few_shot import few_shot_episodes
from keras_ttp.evaluation.linear_svm import C_GRID
from keras_ttp.evaluation.linear_svm import cross_validate_svm_c
from keras_ttp.evaluation.linear_svm import evaluate_linear_svm
from keras_ttp.evaluation.linear_svm import fair_svm_accuracy
from keras_ttp.evaluation.linear_svm import fit_linear_svm
from keras_ttp.evaluation.linear_svm import fitted_svm_accuracy
from keras_ttp.evaluation.linear_svm import linear_svm_accuracy
from keras_ttp.evaluation.linear_svm import select_svm_c
from keras_ttp.evaluation.part_segmentation import SHAPENET_PART_CATEGORIES
from keras_ttp.evaluation.part_segmentation import part_segmentation_metrics
from keras_ttp.evaluation.part_segmentation import parts_from_logits
from keras_ttp.evaluation.point_utilization import point_utilization
from keras_ttp.evaluation.robustness import corrupted_scores
from keras_ttp.evaluation.robustness import jitter_points
from keras_ttp.evaluation.robustness import robustness_accuracy
from keras_ttp.evaluation.robustness import rotate_about_vertical
from keras_ttp.evaluation.robustness import subsample_points
from keras_ttp.evaluation.splits import stratified_subset
from keras_ttp.evaluation.splits import validation_split
