"""The report as pictures: an SVG chart of subscribers per day and feed, and one HTML page that
holds it, the reader apps' shares and a table; self-contained (no script, font or style from
elsewhere), built as trees by lxml, never as strings.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree, html

from feedsvc.stats.report import Report

SVG = "http://www.w3.org/2000/svg"
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_LINES = len(COLOURS)  # feeds drawn; the total line covers the rest
_W, _H_PX, _LEFT, _RIGHT, _TOP, _BOTTOM = 900, 360, 56, 290, 24, 40
_LABEL = 36  # characters of a feed's path in the legend
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;"
    "color:#222}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}tr:nth-child(even){background:#f3f3f3}"
    "svg{max-width:100%;height:auto}"
)


class _Maker:
    """Make elements of one namespace as lxml.builder's E does (which has no type stubs)."""

    def __init__(self, namespace: str | None) -> None:
        self.namespace = namespace

    def __getattr__(self, tag: str) -> Callable[..., etree._Element]:
        name = f"{{{self.namespace}}}{tag}" if self.namespace else tag

        def make(*content: etree._Element | str, **attributes: str) -> etree._Element:
            if tag == "svg" and self.namespace:  # the root declares the default namespace
                nsmap = {None: self.namespace}
                element = etree.Element(name, attributes, nsmap=nsmap)  # type: ignore[arg-type]
            else:
                element = etree.Element(name, attributes)
            for part in content:
                if isinstance(part, str):
                    element.text = (element.text or "") + part
                else:
                    element.append(part)
            return element

        return make


_S = _Maker(SVG)
_H = _Maker(None)


def _ceiling(value: int) -> int:
    """Return a round top for an axis at or above `value`: 1, 2, 5, 10, 20, 50, ..."""
    top, n = 1, 0
    while top < value:
        n += 1
        top = (1, 2, 5)[n % 3] * 10 ** (n // 3)
    return top


def chart(report: Report) -> etree._Element:
    """Return the SVG chart of subscribers per day: the total and each of the biggest feeds."""
    days = report.days
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H_PX - _TOP - _BOTTOM
    top = _ceiling(max(report.daily, default=0))

    def x(n: int) -> float:
        return _LEFT + (plot_w * n / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return _TOP + plot_h - plot_h * value / top

    svg = _S.svg(
        width=str(_W),
        height=str(_H_PX),
        viewBox=f"0 0 {_W} {_H_PX}",
        role="img",
        **{"font-family": "sans-serif", "font-size": "12"},
    )
    svg.append(_S.title("Subscribers per day"))
    svg.append(_S.rect(x="0", y="0", width=str(_W), height=str(_H_PX), fill="#ffffff"))
    for tick in range(5):
        value = top * tick / 4
        at = f"{y(value):.1f}"
        svg.append(_S.line(x1=str(_LEFT), x2=str(_LEFT + plot_w), y1=at, y2=at, stroke="#dddddd"))
        label = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
        svg.append(
            _S.text(label, x=str(_LEFT - 6), y=f"{y(value) + 4:.1f}", **{"text-anchor": "end"})
        )
    step = max(1, (len(days) + 5) // 6)
    for n in range(0, len(days), step):
        svg.append(
            _S.text(days[n], x=f"{x(n):.1f}", y=str(_H_PX - 14), **{"text-anchor": "middle"})
        )
    series = [("total", report.daily, "#222222", "6 3")]
    series += [
        (feed.path, feed.daily, COLOURS[n], "") for n, feed in enumerate(report.feeds[:_LINES])
    ]
    for n, (name, values, colour, dash) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        line = _S.polyline(points=points, fill="none", stroke=colour, **{"stroke-width": "2.5"})
        if dash:
            line.set("stroke-dasharray", dash)
        svg.append(line)
        for i, v in enumerate(values):
            svg.append(_S.circle(cx=f"{x(i):.1f}", cy=f"{y(v):.1f}", r="3", fill=colour))
        legend_y = _TOP + 18 * n
        svg.append(
            _S.rect(x=str(_W - _RIGHT + 16), y=str(legend_y), width="12", height="12", fill=colour)
        )
        shown = name if len(name) <= _LABEL else "…" + name[-_LABEL + 1 :]
        svg.append(
            _S.text(
                f"{shown} ({values[-1] if values else 0:,})",
                x=str(_W - _RIGHT + 34),
                y=str(legend_y + 10),
            )
        )
    return svg


def shares_chart(report: Report, limit: int = 12) -> etree._Element:
    """Return the SVG bars of the reader apps' and services' shares on the last day."""
    shares = report.shares[:limit]
    total = report.total or 1
    row, label_w, bar_w = 24, 220, 420
    height = max(row * len(shares) + 8, 32)
    svg = _S.svg(
        width=str(label_w + bar_w + 90),
        height=str(height),
        viewBox=f"0 0 {label_w + bar_w + 90} {height}",
        role="img",
        **{"font-family": "sans-serif", "font-size": "12"},
    )
    svg.append(_S.title("Reader apps and services, the last day"))
    for n, (name, count) in enumerate(shares):
        top = 4 + row * n
        width = bar_w * count / total
        svg.append(_S.text(name, x=str(label_w - 8), y=str(top + 15), **{"text-anchor": "end"}))
        svg.append(
            _S.rect(
                x=str(label_w),
                y=str(top + 2),
                width=f"{max(width, 1):.1f}",
                height=str(row - 6),
                fill=COLOURS[n % len(COLOURS)],
            )
        )
        svg.append(
            _S.text(
                f"{count:,} ({100 * count / total:.1f} %)",
                x=f"{label_w + width + 6:.1f}",
                y=str(top + 15),
            )
        )
    return svg


def svg_text(element: etree._Element) -> str:
    """Return an SVG document's text."""
    return etree.tostring(element, encoding="unicode", xml_declaration=False) + "\n"


def page(report: Report) -> str:
    """Return the self-contained HTML page of a report."""
    last = report.days[-1] if report.days else "no day"
    rows = [
        _H.tr(
            _H.td(feed.path),
            _H.td(f"{feed.subscribers:,}"),
            _H.td(f"{feed.web:,}"),
            _H.td(f"{feed.websub:,}"),
            _H.td(f"{feed.readers:,}"),
        )
        for feed in report.feeds
    ]
    followers = report.followers_daily[-1] if report.followers_daily else 0
    skipped = [
        _H.li(f"{reason}: {n:,}")
        for reason, n in sorted({**report.skipped, **report.ignored}.items())
    ]
    doc = _H.html(
        _H.head(
            _H.meta(charset="utf-8"),
            _H.meta(name="viewport", content="width=device-width, initial-scale=1"),
            _H.title(f"Subscribers on {last}"),
            _H.style(_STYLE),
        ),
        _H.body(
            _H.h1(f"{report.total:,} subscriptions on {last}"),
            _H.p(
                f"From {report.lines:,} log lines over {len(report.days)} days; "
                f"{followers:,} fediverse followers. Web readers' counts are what they say; "
                "other readers are distinct address and app pairs of the day, counted without "
                "keeping any address."
            ),
            _H.h2("Subscribers per day"),
            chart(report),
            _H.h2("Reader apps and services"),
            shares_chart(report),
            _H.h2("Feeds on the last day"),
            _H.table(
                _H.tr(
                    _H.th("feed"),
                    _H.th("subscribers"),
                    _H.th("web readers"),
                    _H.th("WebSub"),
                    _H.th("own readers"),
                ),
                *rows,
            ),
            _H.h2("Lines not counted"),
            _H.ul(*skipped) if skipped else _H.p("None."),
        ),
        lang="en",
    )
    return str(html.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode")) + "\n"
