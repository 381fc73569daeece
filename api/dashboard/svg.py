"""Charts as inline SVG: horizontal bars (plain, stacked, shares) and a month series of
grouped columns. Every text is escaped; sizes are fixed, so a chart has its size before any
style applies."""

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#3a9c6b", "#b5433f", "#7b5ea7", "#8c8c8c", "#c9a227")
_LABEL_WIDTH = 290
_BAR_AREA = 430
_ROW = 26


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#222">{escape(content)}</text>'
    )


def _rect(x: float, y: float, width: float, height: float, color: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" '
        f'fill="{color}"><title>{escape(tip)}</title></rect>'
    )


def _legend(names: Sequence[str], y: float, width: float) -> tuple[str, float]:
    """A colour key per name, wrapped into lines `width` wide; the SVG and the last line's y."""
    parts, x = [], 8.0
    for i, name in enumerate(names):
        size = 30 + 8 * len(name)  # 12 px text: about 7-8 px a letter, Cyrillic included
        if x > 8 and x + size > width:
            x, y = 8.0, y + 20
        parts.append(_rect(x, y - 10, 12, 12, PALETTE[i % len(PALETTE)], name))
        parts.append(_text(x + 16, y, name))
        x += size
    return "".join(parts), y


def percent(value: float) -> str:
    """A share as Russian writes it: "67 %"."""
    return f"{value * 100:.0f} %"


def bars(title: str, items: Sequence[tuple[str, int]]) -> str:
    """One bar per item, its value written after it."""
    top = max((value for _, value in items), default=0) or 1
    body = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * _ROW
        length = _BAR_AREA * value / top
        body.append(_text(_LABEL_WIDTH - 8, y + 13, label, anchor="end"))
        body.append(_rect(_LABEL_WIDTH, y, length, 18, PALETTE[0], f"{label}: {value}"))
        body.append(_text(_LABEL_WIDTH + length + 6, y + 13, str(value)))
    height = 16 + max(len(items), 1) * _ROW
    return _svg(_LABEL_WIDTH + _BAR_AREA + 60, height, title, "".join(body))


def stacked_bars(
    title: str, categories: Sequence[str], series: Sequence[str], values: dict[tuple[str, str], int]
) -> str:
    """One bar per category, a segment per series, the total after it; a legend below."""
    totals = [sum(values.get((c, s), 0) for s in series) for c in categories]
    top = max(totals, default=0) or 1
    body = []
    for i, category in enumerate(categories):
        y, x = 8 + i * _ROW, float(_LABEL_WIDTH)
        body.append(_text(_LABEL_WIDTH - 8, y + 13, category, anchor="end"))
        for j, name in enumerate(series):
            value = values.get((category, name), 0)
            if value:
                length = _BAR_AREA * value / top
                tip = f"{category}, {name}: {value}"
                body.append(_rect(x, y, length, 18, PALETTE[j % len(PALETTE)], tip))
                x += length
        body.append(_text(x + 6, y + 13, str(totals[i])))
    width = _LABEL_WIDTH + _BAR_AREA + 60
    legend, last_y = _legend(series, 8 + max(len(categories), 1) * _ROW + 18, width)
    return _svg(width, int(last_y) + 12, title, "".join(body) + legend)


def share_bars(title: str, items: Sequence[tuple[str, float | None, str]]) -> str:
    """A 0-100 % track per item, filled to its share; `detail` (e.g. "2 из 3") after it. A share
    of nothing (None) shows an empty track and "нет данных"."""
    body = []
    for i, (label, value, detail) in enumerate(items):
        y = 8 + i * _ROW
        body.append(_text(_LABEL_WIDTH - 8, y + 13, label, anchor="end"))
        body.append(_rect(_LABEL_WIDTH, y, _BAR_AREA, 18, "#e6e6e6", label))
        if value is None:
            body.append(_text(_LABEL_WIDTH + _BAR_AREA + 6, y + 13, "нет данных"))
            continue
        tip = f"{label}: {percent(value)} ({detail})"
        body.append(_rect(_LABEL_WIDTH, y, _BAR_AREA * value, 18, PALETTE[2], tip))
        body.append(_text(_LABEL_WIDTH + _BAR_AREA + 6, y + 13, f"{percent(value)} · {detail}"))
    height = 16 + max(len(items), 1) * _ROW
    return _svg(_LABEL_WIDTH + _BAR_AREA + 140, height, title, "".join(body))


def month_columns(title: str, months: Sequence[str], series: Mapping[str, Sequence[int]]) -> str:
    """Grouped columns per month, one colour per series, a legend below."""
    names = list(series)
    top = max((v for values in series.values() for v in values), default=0) or 1
    group = max(24, min(64, 720 // max(len(months), 1)))
    width_of_bar = (group - 8) / max(len(names), 1)
    chart_height, left = 180, 40
    body = [
        f'<line x1="{left}" y1="{chart_height + 10}" x2="{left + group * len(months)}" '
        f'y2="{chart_height + 10}" stroke="#888"/>',
        _text(left - 6, 18, str(top), anchor="end", size=11),
        _text(left - 6, chart_height + 10, "0", anchor="end", size=11),
    ]
    for i, month in enumerate(months):
        x = left + i * group + 4
        for j, name in enumerate(names):
            value = series[name][i]
            height = chart_height * value / top
            tip = f"{month}, {name}: {value}"
            body.append(
                _rect(
                    x + j * width_of_bar,
                    chart_height + 10 - height,
                    width_of_bar - 1,
                    height,
                    PALETTE[j % len(PALETTE)],
                    tip,
                )
            )
        if len(months) <= 24 or i % 3 == 0:
            body.append(
                _text(x + (group - 8) / 2, chart_height + 26, month, anchor="middle", size=10)
            )
    legend = "".join(
        _rect(left + k * 150, chart_height + 40, 12, 12, PALETTE[k % len(PALETTE)], name)
        + _text(left + k * 150 + 16, chart_height + 50, name)
        for k, name in enumerate(names)
    )
    width = max(left + group * len(months) + 20, 420)
    return _svg(width, chart_height + 60, title, "".join(body) + legend)
