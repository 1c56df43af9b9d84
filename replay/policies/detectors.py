"""Host overload detectors of CloudSim's power package, reproduced down to the floating-point operations.

Reference: CloudSim 3.0.3 (``power.PowerVmAllocationPolicyMigration*``, ``util.MathUtil``, on commons-math3 3.0),
the 3.0 line once Flanagan's library was dropped; 4.0 to 7.x behave the same except where noted. Following its
arithmetic step by step, not textbook statistics, is what makes our consolidation runs comparable with CloudSim's.

``DETECTORS`` maps the policy names of CloudSim's examples (``RunnerAbstract``) to the functions here:

- ``thr``: :func:`static_threshold`, overloaded when utilization > upper.
- ``mad``: :func:`mad`, upper = 1 - safety x MAD of the host history.
- ``iqr``: :func:`iqr`, upper = 1 - safety x IQR of the host history.
- ``lr``: :func:`local_regression`, overloaded when safety x the utilization predicted by a line through the
  last 10 values, ``migration_intervals`` past the last one, is >= 1.
- ``lrr``: :func:`local_regression` with ``robust=True``.

The history CloudSim looks at is the host's last 30 values (``PowerVm.HISTORY_LENGTH``), zeros at the oldest end
dropped (``trimZeroTail``); MAD and IQR need 12 of them, LR 10, else the static fallback (0.7 in the examples)
decides with the current utilization. Surprises in CloudSim's code, mirrored here on purpose:

- ``MathUtil.iqr`` does not use percentiles: it sorts and takes the values at ranks round(0.25 (n + 1)) and
  round(0.75 (n + 1)) (Java rounding, half up). Only the median goes through commons-math's ``Percentile``.
- The "weighted" regression only scales the data by sqrt(weight) when 40 % or more of the weights are <= 0.
  The weights being the kernels' reciprocals, tricube ones are all >= 1: LR is an ordinary least-squares line
  through the 10 values. LRR refits the same data, so the same line, unless 6 or more points lie exactly on it:
  then bisquare weights may be 0 and MAX_VALUE, and the scaled refit overflows to NaN or to an absurd intercept.
- ``countNonZeroBeginning`` of an all-zero or empty history is 1, not 0.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

HISTORY_LENGTH = 30  # PowerVm.HISTORY_LENGTH: values a host history keeps
STAT_MIN_VALUES = 12  # MAD and IQR: "12 has been suggested as a safe value"
LR_LENGTH = 10  # LR: "10 to make the regression responsive enough to latest values"
_JAVA_MAX = sys.float_info.max  # Double.MAX_VALUE, the weight CloudSim gives where a kernel is <= 0
_SAFE_MIN = 2.0**-1022  # commons-math Precision.SAFE_MIN
_TINY = 10 * 5e-324  # 10 * Double.MIN_VALUE


@dataclass(frozen=True, slots=True)
class Verdict:
    """One overload decision, with the numbers it rests on, so a run can log why a host was flagged."""

    overloaded: bool
    threshold: float  # the upper threshold the value was compared with (for lr: 1/safety)
    value: float  # the value compared: current utilization, or lr's predicted utilization
    fallback: bool  # True when the history was too short and the static fallback decided


def static_threshold(utilization: float, upper: float) -> Verdict:
    """THR: overloaded when the utilization is strictly above ``upper`` (CloudSim compares with ``>``)."""
    return Verdict(utilization > upper, upper, utilization, False)


def _host_history(history: np.ndarray) -> list[float]:
    """The history as ``PowerHostUtilizationHistory.getUtilizationHistory`` has it: most recent first, 30 values
    at most, zeros at the oldest end trimmed (an all-zero or empty history becomes ``[0.0]``, as in CloudSim)."""
    recent = [float(v) for v in np.asarray(history, dtype=float)[::-1][:HISTORY_LENGTH]]
    kept = _count_non_zero_beginning(recent)
    return recent[:kept] + [0.0] * (kept - len(recent))  # Arrays.copyOfRange pads with zeros


def _count_non_zero_beginning(data: list[float]) -> int:
    """``MathUtil.countNonZeroBeginning``: the index past the last non-zero value, but 1 when there is none."""
    i = len(data) - 1
    while i >= 0:
        i -= 1
        if data[i + 1] != 0:
            break
    return i + 2


def percentile(values: np.ndarray | list[float], p: float) -> float:
    """commons-math 3.0 ``Percentile`` (``DescriptiveStatistics.getPercentile``): position p (n + 1) / 100 in the
    sorted values, linear interpolation between its neighbours, clamped to the minimum below 1 and to the maximum
    at n and beyond; NaN when empty."""
    data = sorted(float(v) for v in values)
    n = len(data)
    if n == 0:
        return math.nan
    if n == 1:
        return data[0]
    pos = p * (n + 1.0) / 100
    fpos = math.floor(pos)
    dif = pos - fpos
    if pos < 1:
        return data[0]
    if pos >= n:
        return data[-1]
    lower, upper = data[int(fpos) - 1], data[int(fpos)]
    return lower + dif * (upper - lower)


def median_absolute_deviation(values: np.ndarray | list[float]) -> float:
    """``MathUtil.mad``: the median of |median - x|, both medians commons-math's 50th percentile; 0 when empty."""
    if len(values) == 0:
        return 0.0
    med = percentile(values, 50)
    return percentile([abs(med - float(v)) for v in values], 50)


def interquartile_range(values: np.ndarray | list[float]) -> float:
    """``MathUtil.iqr``: sorted[round(0.25 (n + 1)) - 1] subtracted from sorted[round(0.75 (n + 1)) - 1], with
    Java's half-up ``Math.round``; no interpolation."""
    data = sorted(float(v) for v in values)
    q1 = math.floor(0.25 * (len(data) + 1) + 0.5) - 1
    q3 = math.floor(0.75 * (len(data) + 1) + 0.5) - 1
    if q1 < 0 or q3 >= len(data):
        raise ValueError(f"CloudSim's IQR indexes out of {len(data)} values (Java would throw)")
    return data[q3] - data[q1]


def tricube_weights(n: int) -> np.ndarray:
    """``MathUtil.getTricubeWeigts``: 1 / (1 - ((n-1-i)/(n-1))^3)^3 for i >= 2 (the reciprocal of the tricube
    kernel, newest value weight 1), Double.MAX_VALUE where the kernel is 0, and the first two copy the third."""
    if n < 3:
        raise ValueError("CloudSim's tricube weights need at least 3 values")
    weights = [0.0] * n
    top = spread = float(n - 1)
    for i in range(2, n):
        k = math.pow(1 - math.pow((top - i) / spread, 3), 3)
        weights[i] = 1 / k if k > 0 else _JAVA_MAX
    weights[0] = weights[1] = weights[2]
    return np.array(weights)


def tricube_bisquare_weights(residuals: np.ndarray | list[float]) -> np.ndarray:
    """``MathUtil.getTricubeBisquareWeigts``: tricube weight / (1 - (r / 6 median|r|)^2)^2 for i >= 2, MAX_VALUE
    where that kernel is not > 0 (NaN included), the first two copy the third. With a median residual of 0, a
    non-zero residual gets weight 0 (1/inf) and a zero one MAX_VALUE (0/0 is NaN), as Java's doubles do."""
    r = np.asarray(residuals, dtype=float)
    weights = tricube_weights(len(r))
    s6 = percentile(np.abs(r), 50) * 6
    with np.errstate(all="ignore"):
        k = np.power(1 - np.power(r / np.float64(s6), 2), 2)
        out = np.where(k > 0, (1 / k) * weights, _JAVA_MAX)
    out[0] = out[1] = out[2]
    return out


@dataclass(frozen=True, slots=True)
class _Fit:
    """commons-math 3.0 ``SimpleRegression`` (with intercept) after its updating sums, to reuse its exact rounding."""

    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float

    def slope(self) -> float:
        if self.n < 2 or abs(self.sum_xx) < _TINY:
            return math.nan
        return self.sum_xy / self.sum_xx

    def predict(self, x: float) -> float:
        b1 = self.slope()
        return self.intercept(b1) + b1 * x

    def intercept(self, b1: float) -> float:
        return (self.sum_y - b1 * self.sum_x) / self.n

    def estimates(self) -> tuple[float, float]:
        """``regress().getParameterEstimates()``: (intercept, slope), or (mean y, NaN) when x does not vary."""
        if self.n < 3:
            raise ValueError("SimpleRegression.regress needs 3 points")
        if abs(self.sum_xx) > _SAFE_MIN:
            return self.intercept(self.slope()), self.slope()
        return self.sum_y / self.n, math.nan


def _simple_regression(x: list[float], y: list[float]) -> _Fit:
    """Feeds the points one by one as ``SimpleRegression.addData`` does (Welford-style centred sums)."""
    n, x_bar, y_bar, sxx, sxy, sx, sy = 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for xi, yi in zip(x, y, strict=True):
        if n == 0:
            x_bar, y_bar = xi, yi
        else:
            fact1 = 1.0 + n
            fact2 = n / (1.0 + n)
            dx, dy = xi - x_bar, yi - y_bar
            sxx += dx * dx * fact2
            sxy += dx * dy * fact2
            x_bar += dx / fact1
            y_bar += dy / fact1
        sx, sy, n = sx + xi, sy + yi, n + 1
    return _Fit(n, sx, sy, sxx, sxy)


def _weighted_regression(x: list[float], y: list[float], weights: np.ndarray) -> _Fit:
    """``MathUtil.createWeigthedLinearRegression``: x and y times sqrt(weight) only when at least 40 % of the
    weights are <= 0, then an intercept-fitting ``SimpleRegression`` (the intercept column is not scaled)."""
    if sum(1 for w in weights if w <= 0) >= 0.4 * len(weights):
        roots = [math.sqrt(float(w)) for w in weights]
        x = [r * v for r, v in zip(roots, x, strict=True)]
        y = [r * v for r, v in zip(roots, y, strict=True)]
    return _simple_regression(x, y)


def loess_estimates(y: np.ndarray | list[float]) -> tuple[float, float]:
    """``MathUtil.getLoessParameterEstimates``: (intercept, slope) of the line through (1, y0), (2, y1), ..."""
    ys = [float(v) for v in y]
    xs = [float(i + 1) for i in range(len(ys))]
    return _weighted_regression(xs, ys, tricube_weights(len(ys))).estimates()


def robust_loess_estimates(y: np.ndarray | list[float]) -> tuple[float, float]:
    """``MathUtil.getRobustLoessParameterEstimates``: refit with bisquare weights from the first fit's residuals.

    CloudSim 3.0.3 meant to fall back to the first fit on NaN estimates but tests ``== Double.NaN``, always false,
    so NaN estimates come out as they are (4.0 and later use ``Double.isNaN`` and do fall back)."""
    ys = [float(v) for v in y]
    xs = [float(i + 1) for i in range(len(ys))]
    first = _weighted_regression(xs, ys, tricube_weights(len(ys)))
    residuals = [yi - first.predict(xi) for xi, yi in zip(xs, ys, strict=True)]
    return _weighted_regression(xs, ys, tricube_bisquare_weights(residuals)).estimates()


def _spread_verdict(
    history: np.ndarray, utilization: float, safety: float, fallback: float, spread: Callable[[list[float]], float]
) -> Verdict:
    """MAD and IQR differ only in the spread: 12 values after trimming, or the static fallback decides."""
    if safety < 0:  # CloudSim prints a message and calls System.exit(0)
        raise ValueError(f"the safety parameter cannot be negative: {safety}")
    data = _host_history(history)
    if _count_non_zero_beginning(data) < STAT_MIN_VALUES:
        return Verdict(utilization > fallback, fallback, utilization, True)
    upper = 1 - safety * spread(data)
    return Verdict(utilization > upper, upper, utilization, False)


def mad(history: np.ndarray, utilization: float, safety: float = 2.5, fallback: float = 0.7) -> Verdict:
    """MAD: overloaded when utilization > 1 - safety x MAD of the history (CloudSim's ``utilization`` is the
    requested MIPS of the host's VMs over the host's MIPS); with fewer than 12 values, utilization > fallback."""
    return _spread_verdict(history, utilization, safety, fallback, median_absolute_deviation)


def iqr(history: np.ndarray, utilization: float, safety: float = 1.5, fallback: float = 0.7) -> Verdict:
    """IQR: overloaded when utilization > 1 - safety x IQR of the history; with fewer than 12 values,
    utilization > fallback."""
    return _spread_verdict(history, utilization, safety, fallback, interquartile_range)


def local_regression(
    history: np.ndarray,
    safety: float = 1.2,
    migration_intervals: int = 1,
    fallback: float = 0.7,
    robust: bool = False,
    *,
    utilization: float | None = None,
) -> Verdict:
    """LR / LRR: fit the last 10 values at x = 1..10, predict at x = 10 + ``migration_intervals``, overloaded
    when prediction x safety >= 1 (CloudSim multiplies, then compares with ``>=``). With fewer than 10 values
    after trimming, the static fallback compares ``utilization`` (CloudSim's current requested MIPS over the
    host's MIPS; the latest history value when not given) with ``fallback``."""
    data = _host_history(history)
    if len(data) < LR_LENGTH:
        if utilization is None:
            if len(history) == 0:
                raise ValueError("the fallback needs a utilization, and the history is empty")
            utilization = float(history[-1])
        return Verdict(utilization > fallback, fallback, utilization, True)
    window = data[:LR_LENGTH][::-1]  # oldest first, as CloudSim's utilizationHistoryReversed
    intercept, slope = (robust_loess_estimates if robust else loess_estimates)(window)
    predicted = intercept + slope * (LR_LENGTH + migration_intervals)
    threshold = math.inf if safety == 0 else 1 / safety
    return Verdict(predicted * safety >= 1, threshold, predicted, False)


def migration_intervals(max_ram_bytes: float, bandwidth_bytes_per_s: float, interval_s: float) -> int:
    """LR's look-ahead: ceil(longest migration time / scheduling interval), the longest migration being the
    host's largest VM RAM sent at half the host's bandwidth (CloudSim's assumption that a migration gets half).

    CloudSim computes ``maxRam / (bw / (2 * 8000))`` with RAM in MB and bandwidth in the unit where bw / 8000 is
    MB/s (kbit/s with decimal MB: its examples write 1 Gbit/s as 1000000); here both are bytes, so the 8000
    (bits per byte x kilo-per-mega) drops out: time = RAM / (bandwidth / 2)."""
    if bandwidth_bytes_per_s <= 0 or interval_s <= 0:
        raise ValueError("bandwidth and interval must be positive")
    return math.ceil(max_ram_bytes / (bandwidth_bytes_per_s / 2) / interval_s)


DETECTORS: dict[str, Callable[..., Verdict]] = {
    "thr": static_threshold,
    "mad": mad,
    "iqr": iqr,
    "lr": local_regression,
    "lrr": partial(local_regression, robust=True),
}
