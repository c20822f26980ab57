"""Tensor functions shared by keras-ttp's layers, written with `keras.ops`.

- `xla`: whether a tensor is being traced for XLA, and running a function
  one sample at a time there: the only place that asks.
- `selection`: argmax, first-true index, k-th largest, k smallest, largest
  neighbour; each operation has one function where its formulation is
  chosen by backend and compiler.
- `knn`: pairwise distances, the k-nearest-neighbour graph, gathers.
- `batch_norm_max`: order statistics over points of a BatchNorm output
  without computing it at every point (EdgeConv, T-Net, the pooling stage).
- `random`: `keras.random`'s normal and uniform draws, named so that XLA
  compiles them well on tensorflow.

Which formulation each compiler runs fastest, and the measurements behind
the choices, are in docs/performance.md.
"""
