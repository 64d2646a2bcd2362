"""Building and training models; the contract they meet lives in :mod:`digit_pipeline.model`.

- :mod:`.data`: MNIST (:func:`~.data.load_mnist`);
- :mod:`.architectures`: the Flatten-Dense model and the small CNN;
- :mod:`.augment`: stroke-width, affine and elastic augmentation in the input pipeline;
- :mod:`.settings`: :class:`~.settings.TrainSettings`, a run's settings declared once (the
  ``train`` options, the lab's form and the card's command are made from it);
- :mod:`.train`: :func:`~.train.train` (early stopping, cosine decay, distillation, the card);
- :mod:`.finetune`: teach a model the user's own digits;
- :mod:`.progress`: a training run's live figures, a stop request, a text progress bar;
- :mod:`.evaluation`: accuracy, confusion matrix, per-class scores, mistakes;
- :mod:`.comparison`: McNemar's test between two models scored on the same digits;
- :mod:`.yardsticks`: the digits a model is measured on (MNIST test, USPS's real digits,
  real photos' digits at their true boxes).

TensorFlow/Keras is imported only when a model is built or trained.
"""
