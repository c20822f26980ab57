"""Keras layers of keras-ttp (`keras.ops` only: one code path per backend)."""

from keras_ttp.layers.augmentation import PointCloudAugmentation
from keras_ttp.layers.augmentation import RandomElasticDeformation
from keras_ttp.layers.augmentation import RandomJitter
from keras_ttp.layers.augmentation import RandomPointDropout
from keras_ttp.layers.augmentation import RandomRotation
from keras_ttp.layers.augmentation import RandomScale
from keras_ttp.layers.augmentation import RandomShuffle
from keras_ttp.layers.augmentation import RandomTranslation
from keras_ttp.layers.augmentation import UnitSphereNormalization
from keras_ttp.layers.edge_conv import EdgeConv
from keras_ttp.layers.knn import gather_neighbors
from keras_ttp.layers.knn import knn
from keras_ttp.layers.recycling_max_pooling import RecyclingMaxPooling
from keras_ttp.layers.transform_net import TransformNet
