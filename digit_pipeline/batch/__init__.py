"""Read many sheets at once: archives, folders and globs, on all cores or on Ray.

:func:`~digit_pipeline.batch.run.run_batch` is what ``read`` runs; the pieces are
:mod:`.sources` (what to read), :mod:`.engines` (where), :mod:`.journal` (the resumable
JSON Lines file and the CSV) and :mod:`.progress`.
"""

from .engines import make_record, read_data, read_record
from .journal import Journal, csv_bytes, iter_records
from .sources import Source, expand, zip_sources

__all__ = [
    "Journal",
    "Source",
    "csv_bytes",
    "expand",
    "iter_records",
    "make_record",
    "read_data",
    "read_record",
    "zip_sources",
]
