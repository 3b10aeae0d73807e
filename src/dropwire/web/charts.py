"""A small bar chart drawn on the server as inline SVG: no chart library, no script."""

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 720
HEIGHT = 160
TOP = 12
BOTTOM = 22


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    series: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    peak: int


def hour_key(moment: datetime) -> str:
    """The bucket key the database queries produce for an hour: 'YYYY-MM-DD HH' (UTC)."""
    return moment.strftime("%Y-%m-%d %H")


def hourly_chart(now: datetime, series: dict[str, dict[str, int]], hours: int = 24) -> Chart:
    """Bars per hour for the last `hours` hours, one thin bar per series side by side."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    slots = [start + timedelta(hours=i) for i in range(hours)]
    peak = max([1, *(v for counts in series.values() for v in counts.values())])
    slot_width = WIDTH / hours
    bar_width = (slot_width - 4) / max(1, len(series))
    usable = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)
    bars: list[Bar] = []
    ticks: list[tuple[float, str]] = []
    for index, slot in enumerate(slots):
        key = hour_key(slot)
        left = index * slot_width + 2
        for offset, (name, counts) in enumerate(series.items()):
            value = counts.get(key, 0)
            height = usable * value / peak
            bars.append(
                Bar(
                    x=round(left + offset * bar_width, 1),
                    y=round(baseline - height, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                    value=value,
                    label=f"{slot:%H}:00 UTC",
                    series=name,
                )
            )
        if index % 3 == 0:
            ticks.append((round(left + slot_width / 2, 1), f"{slot:%H}h"))
    return Chart(WIDTH, HEIGHT, baseline, bars, ticks, peak)
