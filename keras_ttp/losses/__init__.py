"""Losses of keras-ttp."""

from keras_ttp.losses.nt_xent import NTXent
from keras_ttp.losses.nt_xent import nt_xent
