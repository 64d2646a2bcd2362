"""Benchmark tooling: synthetic sheets with known answers, and the reading benchmark.

Nothing here is needed to read a sheet; the app and ``read`` never import it.

- :mod:`.styles`, :mod:`.glyphs`, :mod:`.layout`, :mod:`.camera`, :mod:`.sheets`:
  synthesise photographed sheets of handwritten digits from MNIST images, with their truth
  (:func:`~digit_pipeline.benchmarking.sheets.make_sheet`);
- :mod:`.scoring`: score a reading against that truth (boxes matched at IoU >= 0.5);
- :mod:`.plan`, :mod:`.fonts`, :mod:`.run`, :mod:`.report`: ``python -m digit_pipeline
  bench``: which sheets to draw, digits from handwriting fonts, drawing and reading them,
  and the figures.
"""
