"""The delivery-over-time chart as inline SVG coordinates (no chart library, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tidings.domain.schedule import format_local
from tidings.store.reports import TimelinePoint

WIDTH, HEIGHT, PAD = 720, 200, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    # The cumulative count of deliveries as an SVG polyline.
    line: str
    total: int
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def timeline_chart(points: list[TimelinePoint], zone: ZoneInfo) -> Chart | None:
    if not points:
        return None
    total = sum(p.delivered for p in points)
    peak = max(p.delivered for p in points)
    slot = (WIDTH - 2 * PAD) / len(points)
    inner = HEIGHT - 2 * PAD
    bars: list[Bar] = []
    line: list[str] = []
    running = 0
    for i, point in enumerate(points):
        h = inner * point.delivered / peak
        x = PAD + i * slot
        bars.append(
            Bar(
                x + slot * 0.1,
                HEIGHT - PAD - h,
                slot * 0.8,
                h,
                f"{format_local(point.at, zone)}: {point.delivered}",
            )
        )
        running += point.delivered
        line.append(f"{x + slot:.1f},{HEIGHT - PAD - inner * running / total:.1f}")
    line.insert(0, f"{PAD},{HEIGHT - PAD}")
    return Chart(
        bars=bars,
        line=" ".join(line),
        total=total,
        first=format_local(points[0].at, zone),
        last=format_local(points[-1].at, zone),
    )
