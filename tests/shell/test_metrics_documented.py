"""The README's list of metrics is the registry's: none missing, none invented."""

from __future__ import annotations

import re
from pathlib import Path

from pager.daemon.metrics import Metrics

README = Path(__file__).resolve().parents[2] / "README.md"


def registered() -> set[str]:
    names = set()
    for collector in Metrics().registry.collect():
        names.add(collector.name + ("_total" if collector.type == "counter" else ""))
    return names


def test_every_metric_is_in_the_readme_and_nothing_else_is() -> None:
    documented = set(re.findall(r"`(pager_[a-z_]+)", README.read_text()))
    assert documented == registered()
