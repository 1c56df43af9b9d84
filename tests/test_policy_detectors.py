"""CloudSim's overload detectors (replay/policies/detectors.py); every expected number derived by hand below.

Histories are oldest first. CloudSim keeps the last 30 values, drops zeros at the oldest end, and needs 12 of
them for MAD and IQR, 10 for LR. Medians are commons-math's 50th percentile: position p (n + 1) / 100 in the
sorted values, interpolated. LR fits the last 10 values at x = 1..10 (oldest at 1); with x = 1..10,
mean x = 5.5 and Sxx = sum (x - 5.5)^2 = 2 (0.25 + 2.25 + 6.25 + 12.25 + 20.25) = 82.5.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from replay.policies import detectors as d
from replay.policies.detectors import (
    DETECTORS,
    Verdict,
    interquartile_range,
    iqr,
    local_regression,
    loess_estimates,
    mad,
    median_absolute_deviation,
    migration_intervals,
    percentile,
    robust_loess_estimates,
    static_threshold,
    tricube_bisquare_weights,
    tricube_weights,
)

EPS = 1e-12
MAX = sys.float_info.max


def shuffled(values: list[float]) -> np.ndarray:
    """The statistics sort; feeding them unsorted checks that they do."""
    return np.random.default_rng(7).permutation(np.array(values))


def test_static_threshold_compares_strictly() -> None:
    assert static_threshold(0.8, 0.8) == Verdict(False, 0.8, 0.8, False)
    assert static_threshold(0.81, 0.8) == Verdict(True, 0.8, 0.81, False)


def test_percentile_follows_commons_math_positions() -> None:
    # sorted [1, 2, 3, 4], n = 4
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 25) == 1.25  # pos 25 x 5 / 100 = 1.25: 1 + 0.25 (2 - 1)
    assert percentile(values, 50) == 2.5  # pos 2.5: 2 + 0.5 (3 - 2)
    assert percentile(values, 75) == 3.75  # pos 3.75: 3 + 0.75 (4 - 3)
    assert percentile(values, 20) == 1.0  # pos 1.0: the first value, nothing to interpolate
    assert percentile(values, 10) == 1.0  # pos 0.5 < 1: clamped to the minimum
    assert percentile(values, 80) == 4.0  # pos 4.0 >= n: the maximum
    assert percentile(values, 90) == 4.0  # pos 4.5 >= n: the maximum
    assert percentile([7.0], 25) == 7.0  # one value: that value, whatever p
    assert math.isnan(percentile([], 50))


def test_mad_step_by_step() -> None:
    # k / 20 for k = 1..12: 0.05 .. 0.60. Median: pos 6.5, 0.30 + 0.5 (0.35 - 0.30) = 0.325.
    # |0.325 - x|: 0.275 0.225 0.175 0.125 0.075 0.025 0.025 0.075 0.125 0.175 0.225 0.275;
    # sorted, pos 6.5 falls between 0.125 and 0.175: MAD = 0.15. Upper = 1 - 2.5 x 0.15 = 0.625.
    history = shuffled([k / 20 for k in range(1, 13)])
    assert median_absolute_deviation(history) == pytest.approx(0.15, abs=EPS)
    above = mad(history, 0.63)
    assert above.overloaded and not above.fallback
    assert above.threshold == pytest.approx(0.625, abs=EPS)
    assert above.value == 0.63
    assert not mad(history, 0.62).overloaded
    # safety 1: upper = 0.85
    assert mad(history, 0.8, safety=1.0).threshold == pytest.approx(0.85, abs=EPS)


def test_mad_of_an_all_equal_history_is_zero_so_the_threshold_is_one() -> None:
    history = np.full(12, 0.6)
    assert mad(history, 1.0) == Verdict(False, 1.0, 1.0, False)  # 1.0 > 1.0 is false
    assert mad(history, 1.05) == Verdict(True, 1.0, 1.05, False)


def test_mad_needs_twelve_values_after_trimming_the_oldest_zeros() -> None:
    # 11 values: the static fallback decides, 0.75 > 0.7
    assert mad(np.full(11, 0.5), 0.75) == Verdict(True, 0.7, 0.75, True)
    assert mad(np.full(11, 0.5), 0.65) == Verdict(False, 0.7, 0.65, True)
    assert mad(np.full(11, 0.5), 0.8, fallback=0.9) == Verdict(False, 0.9, 0.8, True)
    # zeros before the first load are CloudSim's unfilled slots: trimmed, 11 left
    assert mad(np.array([0.0] * 5 + [0.5] * 11), 0.75).fallback
    # a zero at the recent end or in the middle is data: 12 values. Eleven 0.5 and one 0: median 0.5,
    # deviations eleven 0 and one 0.5, MAD 0, upper 1.
    assert mad(np.array([0.5] * 11 + [0.0]), 0.75) == Verdict(False, 1.0, 0.75, False)
    assert mad(np.array([0.5] * 6 + [0.0] + [0.5] * 5), 0.75) == Verdict(False, 1.0, 0.75, False)
    assert mad(np.array([]), 0.75) == Verdict(True, 0.7, 0.75, True)
    assert mad(np.zeros(30), 0.0) == Verdict(False, 0.7, 0.0, True)


def test_mad_looks_at_the_last_thirty_values_only() -> None:
    # last 30: fifteen 0.2, fifteen 0.4. Median: pos 15.5, 0.2 + 0.5 (0.4 - 0.2) = 0.3; every deviation 0.1,
    # MAD 0.1, upper 0.75. With the 10 older 0.4 too: median 0.4, twenty-five deviations of 0, MAD 0, upper 1.
    history = np.array([0.4] * 10 + [0.2, 0.4] * 15)
    assert mad(history, 0.5).threshold == pytest.approx(0.75, abs=EPS)


def test_iqr_takes_ranks_not_interpolated_percentiles() -> None:
    # k / 20 for k = 1..12. Ranks round(0.25 x 13 = 3.25) = 3 and round(0.75 x 13 = 9.75) = 10: 0.15 and 0.50,
    # IQR 0.35, upper = 1 - 1.5 x 0.35 = 0.475. Percentiles would give 0.1625 and 0.5375, IQR 0.375, upper 0.4375.
    history = shuffled([k / 20 for k in range(1, 13)])
    assert interquartile_range(history) == pytest.approx(0.35, abs=EPS)
    verdict = iqr(history, 0.45)
    assert verdict.threshold == pytest.approx(0.475, abs=EPS)
    assert not verdict.overloaded and not verdict.fallback
    assert iqr(history, 0.48).overloaded


def test_iqr_rounds_half_up_like_java() -> None:
    # k / 20 for k = 1..17: 0.25 x 18 = 4.5 rounds to 5 (Python's round gives 4), 0.75 x 18 = 13.5 to 14:
    # 0.25 and 0.70, IQR 0.45, upper = 1 - 1.5 x 0.45 = 0.325 (round-half-even would say 0.5 and 0.25).
    history = shuffled([k / 20 for k in range(1, 18)])
    assert interquartile_range(history) == pytest.approx(0.45, abs=EPS)
    assert iqr(history, 0.3) == Verdict(False, pytest.approx(0.325, abs=EPS), 0.3, False)


def test_iqr_can_push_the_threshold_below_zero() -> None:
    # k / 10 for k = 1..12: ranks 3 and 10 give 0.3 and 1.0, IQR 0.7, upper = 1 - 1.05 = -0.05: always overloaded
    verdict = iqr(np.array([k / 10 for k in range(1, 13)]), 0.0)
    assert verdict.overloaded and verdict.threshold == pytest.approx(-0.05, abs=EPS)


def test_iqr_fallback_and_safety_checks() -> None:
    assert iqr(np.full(11, 0.5), 0.75) == Verdict(True, 0.7, 0.75, True)
    assert iqr(np.full(12, 0.5), 0.75) == Verdict(False, 1.0, 0.75, False)  # IQR 0
    with pytest.raises(ValueError):
        iqr(np.full(12, 0.5), 0.75, safety=-1.0)
    with pytest.raises(ValueError):
        mad(np.full(12, 0.5), 0.75, safety=-0.1)


def test_tricube_weights_are_reciprocal_kernels() -> None:
    # n = 10, top = spread = 9: weight i = 1 / (1 - ((9 - i) / 9)^3)^3 for i >= 2; 0 and 1 copy 2.
    # i = 9: d = 0, 1. i = 8: d^3 = 1/729, (729/728)^3. i = 5: d^3 = 64/729, (729/665)^3.
    # i = 3: d^3 = 216/729, (729/513)^3. i = 2: d^3 = 343/729, (729/386)^3 = 6.7363...
    w = tricube_weights(10)
    assert w[9] == 1.0
    assert w[8] == pytest.approx((729 / 728) ** 3, rel=EPS)
    assert w[5] == pytest.approx((729 / 665) ** 3, rel=EPS)
    assert w[3] == pytest.approx((729 / 513) ** 3, rel=EPS)
    assert w[0] == w[1] == w[2] == pytest.approx((729 / 386) ** 3, rel=EPS)
    assert np.all(np.diff(w[2:]) < 0) and np.all(w >= 1)  # no weight <= 0: CloudSim's fit is never weighted


def test_bisquare_weights_by_hand() -> None:
    # |r| sorted: 0 1 1 1 1 1 2 3 6 12, median (pos 5.5) 1, s6 = 6; weight = tricube / (1 - (r/6)^2)^2 for i >= 2
    r = [1.0, -1.0, 1.0, -1.0, 2.0, 6.0, 1.0, -12.0, 3.0, 0.0]
    w, t = tricube_bisquare_weights(r), tricube_weights(10)
    assert w[2] == pytest.approx(t[2] * (36 / 35) ** 2, rel=EPS)  # (1 - 1/36)^2
    assert w[4] == pytest.approx(t[4] * (36 / 32) ** 2, rel=EPS)  # (1 - 4/36)^2
    assert w[5] == MAX  # r = s6: the kernel is 0
    assert w[7] == pytest.approx(t[7] / 9, rel=EPS)  # (1 - 4)^2 = 9: no clamping past s6
    assert w[8] == pytest.approx(t[8] * (36 / 27) ** 2, rel=EPS)  # (1 - 9/36)^2
    assert w[9] == 1.0 and w[0] == w[1] == w[2]
    # median |r| = 0: r / 0 is inf, kernel inf, weight 0; 0 / 0 is NaN, weight MAX_VALUE
    zero = tricube_bisquare_weights([0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -0.5, 0.25, 0.0, 0.0])
    assert list(zero) == [0.0, 0.0, 0.0, MAX, MAX, MAX, 0.0, 0.0, MAX, MAX]


def test_lr_recovers_an_exact_line() -> None:
    # y = 0.3 + 0.05 x at x = 1..10: intercept 0.3, slope 0.05. Predicted at 10 + 1: 0.85; x 1.2 = 1.02 >= 1.
    line = [0.3 + 0.05 * x for x in range(1, 11)]
    intercept, slope = loess_estimates(line)
    assert intercept == pytest.approx(0.3, abs=EPS) and slope == pytest.approx(0.05, abs=EPS)
    verdict = local_regression(np.array(line))
    assert verdict.overloaded and not verdict.fallback
    assert verdict.value == pytest.approx(0.85, abs=EPS) and verdict.threshold == 1 / 1.2
    # at 10 + 0: 0.8 x 1.2 = 0.96 < 1
    assert not local_regression(np.array(line), migration_intervals=0).overloaded
    # only the last 10 values count
    assert local_regression(np.array([0.9, 0.1] * 5 + line)).value == pytest.approx(0.85, abs=EPS)


def test_lr_fits_a_bent_series_by_ordinary_least_squares() -> None:
    # y = 0.5 x 9 then 0.9: mean y 0.54, Sxy = sum (x - 5.5) y = 0.4 x 4.5 = 1.8, slope 1.8 / 82.5 = 6/275,
    # intercept 0.54 - 5.5 x 6/275 = 0.42. Any weighting of the points would move these.
    history = np.array([0.5] * 9 + [0.9])
    intercept, slope = loess_estimates(history)
    assert intercept == pytest.approx(0.42, abs=EPS) and slope == pytest.approx(6 / 275, abs=EPS)
    # at 11: 0.42 + 11 x 6/275 = 0.66; x 1.5 = 0.99 < 1, x 1.6 = 1.056
    assert local_regression(history, safety=1.5).value == pytest.approx(0.66, abs=EPS)
    assert not local_regression(history, safety=1.5).overloaded
    assert local_regression(history, safety=1.6).overloaded
    # at 13: 0.42 + 13 x 6/275 = 0.7036...; x 1.5 = 1.055
    late = local_regression(history, safety=1.5, migration_intervals=3)
    assert late.overloaded and late.value == pytest.approx(0.42 + 78 / 275, abs=EPS)


def test_lr_matches_numpy_least_squares() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(1, 11)
    for _ in range(20):
        y = rng.random(10)
        slope, intercept = np.polyfit(x, y, 1)
        assert loess_estimates(y) == pytest.approx((intercept, slope), abs=EPS)


def test_lr_compares_with_greater_or_equal() -> None:
    # constant 0.5: slope exactly 0, intercept 5.0 / 10 = 0.5; x 2.0 = 1.0 exactly, and 1.0 >= 1
    assert local_regression(np.full(10, 0.5), safety=2.0) == Verdict(True, 0.5, 0.5, False)
    assert not local_regression(np.full(10, 0.5), safety=1.99).overloaded


def test_weighted_regression_scales_only_when_many_weights_are_zero() -> None:
    x = [float(v) for v in range(1, 11)]
    y = [1.0 + v for v in x]
    # 3 zero weights of 10, under 40 %: unscaled, the exact line y = 1 + x
    assert d._weighted_regression(x, y, np.array([0.0] * 3 + [1.0] * 7)).estimates() == pytest.approx((1, 1))
    # 4 zero weights: points become (0, 0) x 4 and (x, 1 + x) for x = 5..10, fitted with an unscaled intercept.
    # X = 0 0 0 0 5 6 7 8 9 10, Y = X + I (I = 1 where X > 0). mean X 4.5, mean I 0.6, S_XX = 355 - 202.5 = 152.5,
    # S_XI = 45 - 27 = 18: slope 1 + 18/152.5, intercept 5.1 - 4.5 slope = 0.6 - 81/152.5 (true WLS would give 1, 1).
    fit = d._weighted_regression(x, y, np.array([0.0] * 4 + [1.0] * 6)).estimates()
    assert fit == pytest.approx((0.6 - 81 / 152.5, 1 + 18 / 152.5), abs=EPS)


def test_robust_lr_refits_the_same_line() -> None:
    # the bisquare weights are all > 0, so the refit is the same ordinary fit: the outlier is not down-weighted
    history = np.array([0.5] * 9 + [0.9])
    assert robust_loess_estimates(history) == loess_estimates(history)
    assert local_regression(history, robust=True) == local_regression(history)


def test_robust_lr_overflows_when_six_points_lie_on_the_line() -> None:
    # 0.5 with +a, -a, -a, +a at x = 3, 4, 7, 8: sum of d = 0 and sum (x - 5.5) d = -2.5a + 1.5a - 1.5a + 2.5a = 0,
    # so the first fit is y = 0.5 exactly, residuals 0 but at 3, 4, 7, 8; median |r| = 0 (six zeros). Weights:
    # 0 at those four and at x = 1, 2 (copies of x = 3), MAX_VALUE elsewhere: 6 zeros >= 4, so the data are scaled
    # by sqrt(MAX_VALUE) ~ 1.3e154, the sums of squares overflow and the estimates are NaN.
    history = np.array([0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.25, 0.75, 0.5, 0.5])
    assert loess_estimates(history) == (0.5, 0.0)
    assert all(math.isnan(v) for v in robust_loess_estimates(history))
    robust = local_regression(history, safety=100.0, robust=True)
    assert math.isnan(robust.value) and not robust.overloaded and not robust.fallback  # NaN >= 1 is false
    assert local_regression(history, safety=2.0) == Verdict(True, 0.5, 0.5, False)


def test_lr_falls_back_below_ten_values() -> None:
    assert local_regression(np.full(9, 0.5), utilization=0.75) == Verdict(True, 0.7, 0.75, True)
    assert local_regression(np.full(9, 0.5)) == Verdict(False, 0.7, 0.5, True)  # the latest value stands in
    assert local_regression(np.array([0.0] * 5 + [0.5] * 9), utilization=0.75).fallback  # 9 after trimming
    assert local_regression(np.array([]), utilization=0.8) == Verdict(True, 0.7, 0.8, True)
    with pytest.raises(ValueError):
        local_regression(np.array([]))
    # a zero as the latest value is kept: 10 values, 0.5 x 9 then 0. Sxy = 0.5 (45 - 49.5) = -2.25,
    # slope -2.25/82.5 = -3/110, intercept 0.45 + 5.5 x 3/110 = 0.6, at 11: 0.6 - 33/110 = 0.3
    verdict = local_regression(np.array([0.5] * 9 + [0.0]))
    assert not verdict.fallback and verdict.value == pytest.approx(0.3, abs=EPS)


def test_migration_intervals_from_bytes() -> None:
    # CloudSim's example: 870 MB over 1 Gbit/s (1000000 there): 870 / (1e6 / 16000) = 13.92 s.
    # In bytes: 870e6 / (1.25e8 / 2) = 13.92 s; ceil(13.92 / 300) = 1, ceil(13.92 / 5) = 3
    assert migration_intervals(870e6, 1.25e8, 300) == 1
    assert migration_intervals(870e6, 1.25e8, 5) == 3
    # 1.25e8 B at half of 1.25e8 B/s: 2 s exactly
    assert migration_intervals(1.25e8, 1.25e8, 2) == 1
    assert migration_intervals(1.25e8, 1.25e8, 1) == 2
    assert migration_intervals(1.25e8, 1.25e8, 0.5) == 4
    assert migration_intervals(0, 1.25e8, 300) == 0
    with pytest.raises(ValueError):
        migration_intervals(1e9, 0, 300)


def test_detectors_by_cloudsim_name() -> None:
    assert set(DETECTORS) == {"thr", "mad", "iqr", "lr", "lrr"}
    assert DETECTORS["thr"](0.9, 0.8).overloaded
    bent = np.array([0.5] * 9 + [0.9])
    assert DETECTORS["lrr"](bent) == DETECTORS["lr"](bent)
    assert math.isnan(DETECTORS["lrr"](np.array([0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.25, 0.75, 0.5, 0.5])).value)
