"""keras-ttp: ToThePoint self-supervised point-cloud pre-training for Keras 3."""

from keras_ttp import datasets
from keras_ttp import evaluation
from keras_ttp import layers
from keras_ttp import losses
from keras_ttp import models
from keras_ttp import presets
from keras_ttp import utils
from keras_ttp.presets.upload import upload_preset
from keras_ttp.version import __version__
