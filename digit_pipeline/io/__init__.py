"""Bytes in and bytes out: every image decoder and encoder, and a reading's downloads.

- :mod:`~digit_pipeline.io.images`: every decoder and encoder (PNG, JPEG, the formats the
  app's uploader takes), each failure one :class:`~digit_pipeline.io.images.ImageReadError`
  sentence; ``decode_image``, ``read_image``, ``page_count``, ``encode_png``,
  ``encode_jpeg``, ``UPLOAD_TYPES``, ``MAX_PIXELS``;
- :mod:`~digit_pipeline.io.exports`: a reading as CSV (cells formula-safe), JSON, a ZIP of
  the digits and the annotated PNG.

Nothing is re-exported here: import from the module that holds the name
(``from digit_pipeline.io.images import decode_image``), so that asking for a decoder never
loads the exports (and, through them, the reader and the user's data).
"""
