"""Small digits on a full page (issue 23, item 4): the family, and every digit kept."""

from __future__ import annotations

from digit_pipeline.benchmarking.cases import render_case
from digit_pipeline.benchmarking.families import FULL_PAGES, on_a_full_page
from digit_pipeline.benchmarking.plan import make_plan
from digit_pipeline.io.images import decode_image
from digit_pipeline.reading.pipeline import MAX_BOXES, run_pipeline


def test_the_family_fills_a_12_mp_page_with_small_digits_close_together():
    for case in make_plan(10, 0, n_digits_available=200):
        page = on_a_full_page(case)
        assert page.size in FULL_PAGES
        hi = page.style.digit_height[1]
        assert 0.015 * max(page.size) - 1 <= hi <= 0.025 * max(page.size) + 1
        assert 0.1 <= page.style.gap_frac <= 0.3
        assert len(page.indices) == sum(page.lines) > 300  # more than the old cap of boxes
        assert page.indices[: len(case.indices)] == case.indices
        assert max(page.indices) <= max(case.indices)  # the digits the case's set holds
        assert page == on_a_full_page(case)


def test_a_page_of_more_than_300_digits_keeps_a_box_for_each(mnist):
    # The boxes were capped at the 300 largest (against a page of noise): the rest of a
    # full page, its narrow 1s first, were dropped without a word.
    x_test, y_test = mnist
    page = on_a_full_page(make_plan(1, 0, n_digits_available=len(x_test))[0])
    data, truth = render_case(page, x_test, y_test)
    result = run_pipeline(decode_image(data))
    assert len(truth["digits"]) > 300 and MAX_BOXES >= 1000
    assert result.dropped == 0
    assert abs(len(result.boxes) - len(truth["digits"])) <= 0.02 * len(truth["digits"])
