"""The shipped models: ``.keras`` files, each with its JSON card beside it.

Not code: this file only lets the wheel carry the folder inside the package, as
``digit_pipeline/models/`` (see ``packages`` in pyproject.toml and
:func:`digit_pipeline.model.shipped_models_dir`).
"""
