"""Gauges whose values are read from the running service when Prometheus scrapes.

Ages and pool sizes change continuously; reading them at scrape time costs nothing between
scrapes and is never stale. A source returning ``None`` (a JWKS never loaded yet) emits no
sample rather than a made-up value, so alerts compare only real ages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["ScrapeTimeGauges", "single_value"]

Read = Callable[[], Mapping[tuple[str, ...], float] | None]


class ScrapeTimeGauges(Collector):
    def __init__(self) -> None:
        self._sources: list[tuple[str, str, Read, tuple[str, ...]]] = []

    def add(self, name: str, documentation: str, read: Read, labels: tuple[str, ...] = ()) -> None:
        self._sources.append((name, documentation, read, labels))

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read, labels in self._sources:
            values = read()
            if values is None:
                continue
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for label_values, value in values.items():
                family.add_metric(label_values, value)
            yield family


def single_value(read: Callable[[], float | None]) -> Read:
    """Adapt a callable giving one unlabelled value (or ``None``)."""

    def values() -> dict[tuple[str, ...], float] | None:
        value = read()
        return None if value is None else {(): float(value)}

    return values
