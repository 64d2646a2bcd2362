"""Where a batch is read: in this process, in a process pool, or on Ray Data.

Every engine reads each source through :func:`read_record` (and so through
:func:`~digit_pipeline.reading.read_sheet`, the one reading path), loads the model once per
worker, takes sources lazily from an iterator (at most a few in flight, so memory stays
bounded however many images) and yields ``(source, record, note)`` in the sources' order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..io.images import ImageReadError, decode_image, page_count
from ..model import ModelLoadError, load_reader
from ..reading import read_sheet
from ..reading.params import PipelineParams
from .sources import Source, bytes_digest, digest, load_bytes

Result = tuple[Source, dict[str, Any], str | None]
"""A source, its record (as ``read --json`` prints it) and a note for stderr, or None."""

RAY_MISSING = (
    "--engine ray needs Ray: install it with `pip install -r requirements-ray.txt` "
    "(or `poetry install -E ray`)."
)


def default_workers() -> int:
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def make_record(
    name: str,
    shape: tuple[int, ...],
    params: PipelineParams,
    reading: Any,
    load_ms: float,
    page: Any = None,
    set_aside: Any = (),
) -> dict[str, Any]:
    """Return the JSON record of one sheet, the schema ``read --json`` prints.

    ``set_aside``: the boxes the judge set aside as no digit
    (:meth:`~digit_pipeline.reading.Reading.set_aside_in_image`), listed under
    ``"set_aside"`` with the rule's name (``{"box", "rule"}``). :func:`read_data` adds
    ``"rotation"``: the degrees clockwise the image was turned to be read (0, 90, 180,
    270; :mod:`~digit_pipeline.reading.orientation`), the boxes still in the image's pixels.

    ``page``: the flattened page (:attr:`~digit_pipeline.reading.Reading.page` and the
    shape of :attr:`~digit_pipeline.reading.Reading.image`), or None. With one, the
    record's ``page`` holds its corners in the image's pixels and its flattened size;
    the boxes are the image's pixels all the same
    (:meth:`~digit_pipeline.reading.Reading.in_image`).
    """
    timings = {"load": load_ms, **reading.timings_ms}
    flat = None
    if page is not None:
        corners, (height, width) = page[0], page[1][:2]
        flat = {"corners": np.rint(corners).astype(int).tolist(), "width": width, "height": height}
    return {
        "image": name,
        "width": int(shape[1]),
        "height": int(shape[0]),
        "page": flat,
        "params": params.to_dict(),
        "text": reading.text,
        "digits": [d.to_dict() for d in reading.digits],
        "set_aside": [s.to_dict() for s in set_aside],
        "timings_ms": {k: round(v, 2) for k, v in timings.items()},
    }


def read_data(
    data: bytes, name: str, params: PipelineParams, model: Any, auto: bool, load_ms: float = 0.0
) -> tuple[dict[str, Any], str | None]:
    """Decode and read one image's bytes; a bad image is an ``{"image", "error"}`` record."""
    start = time.perf_counter()
    try:
        image = decode_image(data, name)
    except ImageReadError as error:
        return {"image": name, "error": str(error)}, None
    load_ms += (time.perf_counter() - start) * 1000
    pages = page_count(data)
    note = f"note: {name} has {pages} pages; reading the first." if pages > 1 else None
    try:
        read = read_sheet(image, params, model=model, auto=auto, orient=True)
    except Exception as error:  # a stage failing on one odd image never stops the batch
        return {"image": name, "error": f"{name} could not be read ({error})."}, None
    flat = read.image.shape[:2] if read.rotation in (0, 180) else read.image.shape[1::-1]
    page = None if read.page is None else (read.page, flat)
    record = make_record(
        name, image.shape, read.params, read.in_image(), load_ms, page, read.set_aside_in_image()
    )
    return {**record, "rotation": read.rotation}, note


def read_record(
    source: Source, params: PipelineParams, model: Any, auto: bool
) -> tuple[dict[str, Any], str | None]:
    """Fetch and read one source.

    The record carries the source's content hash under ``"hash"`` (the resume key's
    half that :func:`~.sources.digest` gives), taken from the bytes just read, so the
    main process need not read every file a second time to hash it.
    """
    start = time.perf_counter()
    try:
        data = load_bytes(source)
    except ImageReadError as error:
        return {"image": source.name, "error": str(error), "hash": digest(source)}, None
    content_hash = bytes_digest(source, data)
    load_ms = (time.perf_counter() - start) * 1000
    record, note = read_data(data, source.name, params, model, auto, load_ms)
    return {**record, "hash": content_hash}, note


def read_sequential(
    sources: Iterable[Source], params: PipelineParams, model_path: str, auto: bool
) -> Iterator[Result]:
    """Read in this process (``--workers 1``)."""
    model = load_reader(model_path)
    for source in sources:
        record, note = read_record(source, params, model, auto)
        yield source, record, note


# --- process pool ------------------------------------------------------------------------


def one_thread_each() -> None:
    """Keep a worker's OpenCV and TensorFlow to one thread each.

    N workers on N cores each running their own thread pools oversubscribe the machine;
    one thread per worker is what Ray does for a 1-CPU actor (``OMP_NUM_THREADS=1``).
    """
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import cv2

    cv2.setNumThreads(1)
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except (ImportError, RuntimeError):  # no TensorFlow backend, or already started
        pass


_WORKER: dict[str, Any] = {}


def _init_worker(model_path: str, params: PipelineParams, auto: bool) -> None:
    """Pool initializer: load the model once per worker process.

    Workers ignore Ctrl-C: the main process stops handing out work and leaves the journal
    whole; workers finish the sheet in hand.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_thread_each()
    try:
        _WORKER["model"] = load_reader(model_path)
    except ModelLoadError as error:
        _WORKER["error"] = error
    _WORKER["params"], _WORKER["auto"] = params, auto


def _work(task: tuple[str, str, str | None, str | None]) -> tuple[dict[str, Any], str | None]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    source = Source.from_task(task)
    return read_record(source, _WORKER["params"], _WORKER["model"], _WORKER["auto"])


def read_pool(
    sources: Iterable[Source],
    params: PipelineParams,
    model_path: str,
    auto: bool,
    workers: int,
    in_flight: int | None = None,
) -> Iterator[Result]:
    """Read in ``workers`` processes, at most ``in_flight`` sources submitted at once.

    Results come back in the sources' order; the pool's processes are started with
    ``spawn`` (TensorFlow is not fork-safe) and each loads the model once.

    Raises
    ------
    ModelLoadError
        If the workers cannot load the model.
    """
    limit = in_flight or 2 * workers
    context = multiprocessing.get_context("spawn")
    pending: deque[tuple[Source, Future]] = deque()
    it = iter(sources)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(model_path, params, auto)
    ) as pool:
        try:
            for source in it:
                pending.append((source, pool.submit(_work, source.to_task())))
                if len(pending) >= limit:
                    yield _collect(*pending.popleft())
            while pending:
                yield _collect(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()


def _collect(source: Source, future: Future) -> Result:
    try:
        record, note = future.result()
    except ModelLoadError:
        raise
    except Exception as error:  # a worker died (out of memory, a crash in native code)
        record = {"image": source.name, "error": f"{source.name} could not be read ({error})."}
        note = None
    return source, record, note


# --- Ray Data ----------------------------------------------------------------------------


class RayConnectError(ConnectionError):
    """``--engine ray --address ...`` could not reach the cluster; the message says why."""


def ray_available() -> bool:
    """Whether Ray (with Ray Data) can be imported."""
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


class _RayReader:
    """A Ray Data actor: loads the model once, then reads batches of sources."""

    def __init__(self, model_path: str, params: PipelineParams, auto: bool) -> None:
        one_thread_each()
        self.model = load_reader(model_path)
        self.params, self.auto = params, auto

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import json

        out = []
        for task in zip(
            batch["name"], batch["path"], batch["member"], batch["refused"], strict=True
        ):
            source = Source(*(None if v is None or v == "" else str(v) for v in task))
            record, note = read_record(source, self.params, self.model, self.auto)
            out.append(json.dumps([record, note]))
        return {"index": batch["index"], "result": out}


def read_ray(
    sources: list[Source],
    params: PipelineParams,
    model_path: str,
    auto: bool,
    workers: int,
    address: str | None = None,
) -> Iterator[Result]:
    """Read on Ray Data: ``map_batches`` with one model-loading actor per worker.

    Without ``address`` a local Ray instance with ``workers`` CPUs is started; with
    ``ray://host:port`` or ``auto`` an existing cluster is used (the sources' paths must
    then be readable on every node: shared storage). Results come back in order.

    Raises
    ------
    ImportError
        With :data:`RAY_MISSING` when Ray is not installed.
    RayConnectError
        When ``address`` names a cluster that cannot be reached.
    """
    import json

    try:
        import ray
        import ray.data
    except ImportError as error:
        raise ImportError(RAY_MISSING) from error
    if not sources:
        return
    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
        if address:
            try:
                ray.init(address=address, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise RayConnectError(
                    f"cannot reach the Ray cluster at {address} ({error}). Is it running, "
                    "and does this machine have its address (and its token, if it asks "
                    "for one: RAY_AUTH_TOKEN)?"
                ) from error
        else:
            ray.init(num_cpus=workers, log_to_driver=False, include_dashboard=False)
        started = True
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        items = [
            {
                "index": i,
                "name": s.name,
                "path": str(Path(s.path).resolve()) if s.path else "",
                "member": s.member or "",
                "refused": s.refused or "",
            }
            for i, s in enumerate(sources)
        ]
        dataset = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
            _RayReader,
            fn_constructor_args=(model_path, params, auto),
            batch_size=1,
            concurrency=workers,
            num_cpus=1,
        )
        for row in dataset.iter_rows():
            record, note = json.loads(row["result"])
            yield sources[int(row["index"])], record, note
    finally:
        if started:
            ray.shutdown()
