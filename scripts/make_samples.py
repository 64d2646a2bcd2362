"""Write the sample sheets (photographed handwriting made from MNIST test digits).

Each sheet is written as ``<name>.jpg`` plus ``<name>.json`` (the truth of
:func:`digit_pipeline.benchmarking.sheets.make_sheet` plus ``"image"`` and ``"style"``). Everything
is seeded, so running the script again writes the same files.

Usage::

    python scripts/make_samples.py                       # MNIST via keras (downloads once)
    python scripts/make_samples.py --data path/to/mnist.npz --out sample_images
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digit_pipeline.benchmarking.sheets import make_sheet
from digit_pipeline.benchmarking.styles import SheetStyle
from digit_pipeline.io.images import encode_jpeg


@dataclass(frozen=True)
class SampleSpec:
    """One sample sheet: file name, digits per line, size (W, H), style and seed."""

    name: str
    lines: tuple[int, ...]
    size: tuple[int, int]
    style: SheetStyle
    seed: int


SAMPLES: tuple[SampleSpec, ...] = (
    SampleSpec(
        name="pencil_three_lines",
        lines=(3, 3, 3),
        size=(1600, 1200),
        style=SheetStyle(
            paper_rgb=(241, 233, 212),
            paper_mottle=0.015,
            lighting=0.3,
            ink="pencil",
            ink_rgb=(104, 104, 112),
            ink_opacity=0.9,
            stroke_px=-6,
            blur_sigma=1.0,
            noise_sigma=3.0,
            jpeg_quality=85,
            rotation_deg=-1.2,
            digit_height=(150, 220),
            gap_frac=0.6,
            line_spacing=1.55,
        ),
        seed=101,
    ),
    SampleSpec(
        name="pen_ruled",
        lines=(7, 7),
        size=(1800, 1200),
        style=SheetStyle(
            paper_rgb=(246, 244, 236),
            paper_mottle=0.012,
            lighting=0.22,
            ink="pen",
            ink_rgb=(28, 34, 70),
            stroke_px=-4,
            blur_sigma=0.9,
            noise_sigma=2.5,
            jpeg_quality=85,
            ruling="ruled",
            rotation_deg=0.6,
            digit_height=(100, 140),
            gap_frac=0.5,
            line_spacing=1.3,
        ),
        seed=202,
    ),
    SampleSpec(
        name="marker_thick_shadow",
        lines=(5,),
        size=(2200, 1100),
        style=SheetStyle(
            paper_rgb=(236, 234, 226),
            paper_mottle=0.015,
            lighting=0.18,
            shadow=0.45,
            ink="pen",
            ink_rgb=(18, 18, 22),
            stroke_px=14,
            blur_sigma=1.3,
            noise_sigma=3.0,
            jpeg_quality=85,
            rotation_deg=1.5,
            digit_height=(300, 380),
            gap_frac=0.4,
            line_spacing=1.3,
        ),
        seed=303,
    ),
    SampleSpec(
        name="scan_small_many",
        lines=(10, 10, 10),
        size=(1400, 700),
        style=SheetStyle(
            paper_rgb=(250, 250, 248),
            paper_mottle=0.008,
            lighting=0.04,
            ink="pen",
            ink_rgb=(30, 32, 44),
            stroke_px=-1,
            blur_sigma=0.6,
            noise_sigma=1.5,
            jpeg_quality=70,
            digit_height=(45, 60),
            gap_frac=0.55,
            line_spacing=1.9,
        ),
        seed=404,
    ),
    SampleSpec(
        name="pencil_faint_two_lines",
        lines=(4, 4),
        size=(1200, 900),
        style=SheetStyle(
            paper_rgb=(214, 211, 203),
            paper_mottle=0.02,
            lighting=0.45,
            ink="pencil",
            ink_rgb=(128, 126, 130),
            ink_opacity=0.7,
            stroke_px=-4,
            blur_sigma=1.1,
            noise_sigma=3.5,
            jpeg_quality=85,
            rotation_deg=-0.8,
            digit_height=(120, 160),
            gap_frac=0.6,
            line_spacing=1.6,
        ),
        seed=505,
    ),
)


def load_mnist_test(data: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Load the MNIST test split from `data` (an npz) or via keras.

    Parameters
    ----------
    data : Path or None
        A ``mnist.npz`` with ``x_test``/``y_test``; None uses
        ``keras.datasets.mnist.load_data()``.

    Returns
    -------
    x_test : ndarray of shape (10000, 28, 28), uint8
        Test images.
    y_test : ndarray of shape (10000,), uint8
        Test labels.
    """
    if data is not None:
        with np.load(data) as npz:
            return npz["x_test"], npz["y_test"]
    import keras  # imported lazily: only needed without --data

    _, (x_test, y_test) = keras.datasets.mnist.load_data()
    return x_test, y_test


def write_sample(spec: SampleSpec, x_test: np.ndarray, y_test: np.ndarray, out: Path) -> Path:
    """Render one sample sheet and write ``<name>.jpg`` and ``<name>.json`` into `out`.

    The sheet is rendered without the JPEG step and encoded once at the style's
    quality, so the file decodes to exactly what ``make_sheet`` returns for the style.

    Parameters
    ----------
    spec : SampleSpec
        The sheet to write.
    x_test, y_test : ndarray
        MNIST test images and labels.
    out : Path
        Output folder (created if missing).

    Returns
    -------
    Path
        The JPEG written.
    """
    rng = np.random.default_rng(spec.seed)
    indices = np.sort(rng.choice(len(x_test), size=sum(spec.lines), replace=False))
    indices = rng.permutation(indices)
    raw_style = dataclasses.replace(spec.style, jpeg_quality=None)
    image, truth = make_sheet(
        x_test[indices],
        [int(v) for v in y_test[indices]],
        list(spec.lines),
        size=spec.size,
        style=raw_style,
        rng=rng,
        source_indices=[int(i) for i in indices],
    )
    quality = spec.style.jpeg_quality
    assert quality is not None
    out.mkdir(parents=True, exist_ok=True)
    jpg = out / f"{spec.name}.jpg"
    jpg.write_bytes(encode_jpeg(image, quality))
    record = {"image": jpg.name, **truth, "style": spec.style.to_dict()}
    (out / f"{spec.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return jpg


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and write every sample sheet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="local mnist.npz (default: keras download)"
    )
    parser.add_argument("--out", type=Path, default=Path("sample_images"), help="output folder")
    args = parser.parse_args(argv)
    x_test, y_test = load_mnist_test(args.data)
    for spec in SAMPLES:
        jpg = write_sample(spec, x_test, y_test, args.out)
        size_kb = (jpg.stat().st_size + jpg.with_suffix(".json").stat().st_size) / 1024
        print(f"{jpg}  {spec.size[0]}x{spec.size[1]}  {sum(spec.lines)} digits  {size_kb:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
