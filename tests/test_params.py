"""Tests for digit_pipeline.reading.params: defaults, ranges from PARAM_SPECS, round trips."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest

from digit_pipeline.reading.params import PARAM_SPECS, ParamSpec, PipelineParams

SPEC_IDS = [spec.name for spec in PARAM_SPECS]
NUMERIC = [spec for spec in PARAM_SPECS if spec.kind is not bool and not spec.choices]


def _bad_values(spec: ParamSpec) -> list[tuple[str, object]]:
    """Values just outside what ``spec`` declares, with an id for each."""
    bad: list[tuple[str, object]] = []
    if spec.kind is bool:
        return [("int-1", 1), ("str", "yes"), ("none", None)]
    if spec.choices:
        outside = range(min(spec.choices) - 1, max(spec.choices) + 2)
        bad += [(f"not-a-choice-{v}", v) for v in outside if v not in spec.choices]
    if spec.low is not None:
        bad.append(("low-1", spec.low - 1 if spec.kind is int else spec.low - 0.01))
    if spec.high is not None:
        bad.append(("high+1", spec.high + 1 if spec.kind is int else spec.high + 0.01))
    if spec.odd:
        even = int(spec.low) + 1 if int(spec.low) % 2 else int(spec.low)
        bad.append((f"even-{even}", even))
        bad.append((f"even-{int(spec.high) - 1}", int(spec.high) - 1))
    bad.append(("str", "5"))
    if spec.kind is int:
        start = spec.choices[0] if spec.choices else spec.low
        bad += [("float", float(start) + 0.5), ("bool", True)]
    else:
        bad += [("nan", float("nan")), ("inf", float("inf")), ("bool", True)]
    if not spec.optional:
        bad.append(("none", None))
    return bad


BAD = [(spec, value) for spec in PARAM_SPECS for _, value in _bad_values(spec)]
BAD_IDS = [f"{spec.name}-{label}" for spec in PARAM_SPECS for label, _ in _bad_values(spec)]


def test_defaults_are_valid():
    params = PipelineParams()
    for spec in PARAM_SPECS:
        assert getattr(params, spec.name) == spec.default
    assert PipelineParams(**{spec.name: spec.default for spec in PARAM_SPECS}) == params


def test_specs_cover_every_field_in_order():
    names = [f.name for f in dataclasses.fields(PipelineParams)]
    assert [spec.name for spec in PARAM_SPECS] == names
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("spec", "value"), BAD, ids=BAD_IDS)
def test_out_of_range_field_raises_naming_it(spec, value):
    with pytest.raises(ValueError, match=rf"^{re.escape(spec.name)} must"):
        PipelineParams(**{spec.name: value})


@pytest.mark.parametrize(("spec", "value"), BAD, ids=BAD_IDS)
def test_replace_validates(spec, value):
    params = PipelineParams()
    with pytest.raises(ValueError, match=rf"^{re.escape(spec.name)} must"):
        params.replace(**{spec.name: value})
    assert params == PipelineParams()


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.name for s in NUMERIC])
def test_bounds_themselves_are_accepted(spec):
    for value in (spec.low, spec.high):
        value = int(value) if spec.kind is int else float(value)
        if spec.odd and value % 2 == 0:
            continue
        assert getattr(PipelineParams(**{spec.name: value}), spec.name) == value


@pytest.mark.parametrize(
    "spec", [s for s in PARAM_SPECS if s.choices], ids=[s.name for s in PARAM_SPECS if s.choices]
)
def test_every_choice_is_accepted(spec):
    for choice in spec.choices:
        assert getattr(PipelineParams(**{spec.name: choice}), spec.name) == choice


def test_roi_threshold_accepts_none_and_range():
    assert PipelineParams(roi_threshold=None).roi_threshold is None
    assert PipelineParams(roi_threshold=0).roi_threshold == 0
    assert PipelineParams(roi_threshold=255).roi_threshold == 255
    optional = [spec.name for spec in PARAM_SPECS if spec.optional]
    assert "roi_threshold" in optional


def test_only_optional_fields_accept_none():
    for spec in PARAM_SPECS:
        if spec.optional:
            assert getattr(PipelineParams(**{spec.name: None}), spec.name) is None
        else:
            with pytest.raises(ValueError, match=rf"^{re.escape(spec.name)} must"):
                PipelineParams(**{spec.name: None})


@pytest.mark.parametrize(
    ("lower", "multiplier", "upper"),
    [(30, 3.0, 90), (0, 5.0, 0), (255, 5.0, 1275), (10, 2.55, 26), (7, 1.0, 7), (33, 1.5, 50)],
    ids=["default", "zero", "max", "rounds-up", "ratio-1", "half-to-even"],
)
def test_canny_upper(lower, multiplier, upper):
    params = PipelineParams(canny_lower=lower, canny_multiplier=multiplier)
    assert params.canny_upper == upper
    assert isinstance(params.canny_upper, int)


def test_canny_upper_of_defaults():
    params = PipelineParams()
    assert params.canny_upper == round(params.canny_lower * params.canny_multiplier)


def test_replace_returns_new_validated_copy():
    params = PipelineParams()
    changed = params.replace(blur_size=7, roi_threshold=120)
    assert changed.blur_size == 7
    assert changed.roi_threshold == 120
    assert params.blur_size == 5
    assert params.roi_threshold is None
    assert changed != params
    assert changed.replace(blur_size=5, roi_threshold=None) == params


def test_params_are_frozen():
    params = PipelineParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.blur_size = 7  # type: ignore[misc]


def test_values_are_normalised_to_python_types():
    params = PipelineParams(work_size=np.int64(800), canny_multiplier=2, canny_aperture=np.int32(5))
    assert type(params.work_size) is int and params.work_size == 800
    assert type(params.canny_multiplier) is float and params.canny_multiplier == 2.0
    assert type(params.canny_aperture) is int and params.canny_aperture == 5
    assert PipelineParams(canny_multiplier=np.float32(2.5)).canny_multiplier == 2.5


def _non_default(spec: ParamSpec) -> object:
    if spec.kind is bool:
        return not spec.default
    if spec.choices:
        return next(c for c in spec.choices if c != spec.default)
    if spec.kind is float:
        return spec.high
    value = int(spec.high) if int(spec.high) != spec.default else int(spec.low)
    return value if not spec.odd or value % 2 else value - 1


@pytest.mark.parametrize(
    "params",
    [
        PipelineParams(),
        PipelineParams(**{spec.name: _non_default(spec) for spec in PARAM_SPECS}),
        PipelineParams(roi_threshold=17, canny_multiplier=1.3),
    ],
    ids=["defaults", "all-changed", "some-changed"],
)
def test_to_dict_round_trips(params):
    data = params.to_dict()
    assert set(data) == {spec.name for spec in PARAM_SPECS}
    assert PipelineParams(**data) == params
    # JSON-ready: survives a trip through JSON text too.
    assert PipelineParams(**json.loads(json.dumps(data))) == params


def test_all_changed_really_changes_every_field():
    changed = PipelineParams(**{spec.name: _non_default(spec) for spec in PARAM_SPECS})
    for spec in PARAM_SPECS:
        assert getattr(changed, spec.name) != spec.default, spec.name


@pytest.mark.parametrize("spec", PARAM_SPECS, ids=SPEC_IDS)
def test_spec_is_complete_and_default_inside_range(spec):
    assert isinstance(spec.label, str) and spec.label.strip()
    assert isinstance(spec.help, str) and spec.help.strip()
    assert spec.kind in (bool, int, float)
    default = spec.default
    if default is None:
        assert spec.optional
        return
    if spec.kind is bool:
        assert isinstance(default, bool)
        assert spec.low is None and spec.high is None and spec.choices is None
        return
    assert isinstance(default, spec.kind) and not isinstance(default, bool)
    if spec.choices:
        assert default in spec.choices
        return
    assert spec.low is not None and spec.high is not None and spec.step is not None
    assert spec.low <= default <= spec.high
    assert spec.step > 0
    if spec.odd:
        assert default % 2 == 1 and spec.low % 2 == 1
    # A slider from low in steps of step reaches the default and the high end.
    for value in (default, spec.high):
        steps = (value - spec.low) / spec.step
        assert math.isclose(steps, round(steps), abs_tol=1e-9), (spec.name, value)


def test_labels_are_unique():
    labels = [spec.label for spec in PARAM_SPECS]
    assert len(set(labels)) == len(labels)


def test_fitted_params_name_what_auto_fit_sets(mnist):
    from conftest import line_of_digits

    from digit_pipeline.reading.autofit import FITTED_PARAMS, auto_fit

    page, _, _ = line_of_digits(mnist, [3, 4, 7], gap=20, height=150)
    base = PipelineParams(
        invert=True, work_size=4000, blur_size=31, canny_lower=0, canny_multiplier=5.0,
        canny_aperture=7, dilate_size=25, dilate_iterations=10, min_box_area=5000,
    )  # fmt: skip
    fitted = auto_fit(page, base=base).params
    changed = {k for k, v in fitted.to_dict().items() if v != base.to_dict()[k]}
    assert changed == set(FITTED_PARAMS)
