"""Server-side SVG charts: values land where they should, labels are escaped, lines drawn."""

import re
import xml.etree.ElementTree as ET

from dashboards.charts import (
    Interval,
    Reference,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
    percent,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    """The chart as XML: also proves it is well-formed."""
    return ET.fromstring(
        str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def test_a_line_chart_puts_higher_values_higher_and_titles_every_point():
    chart = parse(
        line_chart([Series("members", [("11-01", 10), ("11-02", 30), ("11-03", 20)])], label="s")
    )
    points = chart.findall(f".//{SVG}circle")
    heights = [float(p.get("cy")) for p in points]
    assert heights[1] < heights[2] < heights[0]  # SVG y grows downwards
    assert [p.find(f"{SVG}title").text for p in points] == [
        "members · 11-01: 10",
        "members · 11-02: 30",
        "members · 11-03: 20",
    ]


def test_reference_lines_are_drawn_with_their_labels_even_above_the_data():
    markup = str(
        line_chart(
            [Series("complaint rate", [("a", 0.0005), ("b", 0.0008)])],
            label="complaints",
            fmt=percent,
            references=[Reference(0.001, "Gmail target"), Reference(0.003, "Gmail limit")],
        )
    )
    assert 'data-value="0.001"' in markup and 'data-value="0.003"' in markup
    assert "Gmail limit (0.30%)" in markup
    tree = parse(markup)
    limit_line = tree.find(f".//{SVG}g[@data-value='0.003']/{SVG}line")
    assert float(limit_line.get("y1")) >= 0  # inside the chart, not clipped off the top


def test_labels_from_data_cannot_inject_markup():
    markup = str(bar_chart([("<script>alert(1)</script>", 3)], label='x" onload="evil'))
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert 'onload="evil' not in markup
    parse(markup)


def test_bars_are_as_long_as_their_values():
    tree = parse(bar_chart([("gmail.com", 10), ("yahoo.com", 5)], label="sent"))
    widths = [float(r.get("width")) for r in tree.findall(f".//{SVG}rect")]
    assert abs(widths[0] - 2 * widths[1]) < 0.5


def test_an_interval_chart_marks_the_estimate_inside_its_interval():
    tree = parse(
        interval_chart(
            [Interval("b", 0.12, 0.25, 0.38)], label="lift", references=[Reference(0, "no effect")]
        )
    )
    line = tree.find(f".//{SVG}g[@class='interval']/{SVG}line")
    dot = tree.find(f".//{SVG}g[@class='interval']/{SVG}circle")
    assert float(line.get("x1")) < float(dot.get("cx")) < float(line.get("x2"))
    zero = float(tree.find(f".//{SVG}g[@class='reference']/{SVG}line").get("x1"))
    assert zero < float(line.get("x1"))  # the whole interval is above "no effect"


def test_empty_charts_say_so():
    for chart in (
        line_chart([], label="l", empty_message="No history yet"),
        bar_chart([], label="b", empty_message="No history yet"),
        interval_chart([], label="i", empty_message="No history yet"),
    ):
        assert re.search(r"No history yet", str(chart))
        parse(chart)
