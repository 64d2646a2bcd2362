"""The model contract's constants that the image stages share with the model side.

The other terms of the contract (10 classes, float32 in [0, 1], white on black) live in
:mod:`digit_pipeline.model`. This module imports nothing, so the stages take the one 28
from here without loading more than the model package's own light ``__init__`` (NumPy;
Keras only when a model is loaded).
"""

MNIST_SIZE = 28
"""Side of an MNIST digit image: every digit the pipeline makes and every model reads is
``MNIST_SIZE`` x ``MNIST_SIZE``."""
