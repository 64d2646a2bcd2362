"""The user's own digits: a crash-safe dataset folder of 28×28 samples and their labels.

- :mod:`~digit_pipeline.userdata.dataset`: :class:`Dataset`, saving, deleting, loading;
- :mod:`~digit_pipeline.userdata.labels`: ``labels.csv`` read as spreadsheets write it;
- :mod:`~digit_pipeline.userdata.files`: atomic writes and folder locks.
"""

from .dataset import Dataset, SaveResult, default_dir, digit_id
from .labels import DatasetError, Sample

__all__ = ["Dataset", "DatasetError", "Sample", "SaveResult", "default_dir", "digit_id"]
