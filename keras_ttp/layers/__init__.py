"""Keras layers of keras-ttp, written with `keras.ops` (the tensor functions
they share are in `keras_ttp.ops`)."""

from keras_ttp.layers.augmentation import PointCloudAugmentation
from keras_ttp.layers.augmentation import RandomElasticDeformation
from keras_ttp.layers.augmentation import RandomJitter
from keras_ttp.layers.augmentation import RandomPointDropout
from keras_ttp.layers.augmentation import RandomRotation
from keras_ttp.layers.augmentation import RandomScale
from keras_ttp.layers.augmentation import RandomShuffle
from keras_ttp.layers.augmentation import RandomTranslation
from keras_ttp.layers.augmentation import UnitSphereNormalization
from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.layers.edge_conv import EdgeConv
from keras_ttp.layers.pooling_stage import PoolingStage
from keras_ttp.layers.recycling_max_pooling import RecycledRank
from keras_ttp.layers.recycling_max_pooling import RecyclingMaxPooling
from keras_ttp.layers.transform_net import TransformNet
from keras_ttp.ops.knn import gather_neighbors
from keras_ttp.ops.knn import knn
