"""Reading the daemon's /metrics text (Prometheus exposition format) in tests."""

from __future__ import annotations

import re

_SAMPLE = re.compile(r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample of ``text`` as ``{(name, labels): value}``; comments and blanks skipped."""
    samples: Samples = {}
    for line in text.splitlines():
        sample = _SAMPLE.fullmatch(line)
        if sample is None:
            continue
        labels = frozenset(_LABEL.findall(sample["labels"] or ""))
        samples[(sample["name"], labels)] = float(sample["value"])
    return samples


def sample_value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
