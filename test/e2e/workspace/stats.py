"""A small Python module for the end-to-end tests: the editor types at the end of it."""
import math
from typing import Iterable, List


def mean(values: Iterable[float]) -> float:
    items = list(values)
    if not items:
        raise ValueError("mean of an empty sequence")
    return sum(items) / len(items)


def variance(values: Iterable[float]) -> float:
    items = list(values)
    m = mean(items)
    return sum((v - m) ** 2 for v in items) / len(items)


def stddev(values: Iterable[float]) -> float:
    return math.sqrt(variance(values))


def normalize(values: List[float]) -> List[float]:
    m = mean(values)
    s = stddev(values)
    return [(v - m) / s for v in values]


def moving_average(values: List[float], window: int) -> List[float]:
    out = []
    for i in range(len(values) - window + 1):
        out.append(mean(values[i : i + window]))
    return out

