import re

import pytest

from maps import NoRouteError, render_rep_day_map
from tests.maps.helpers import check_scripts_parse, unescape_js
from tests.tiny_plan import DAY1, DAY2


def html_of(m):
    return m.get_root().render()


def test_numbered_stops_in_order(region, plan, tmp_path):
    html = html_of(render_rep_day_map(region, plan, "R1", DAY1))
    text = unescape_js(html)
    assert re.findall(r'class="fvp-stop"[^>]*>(\d+)<', text) == ["1", "2"]
    # C1 is stop 1, C2 stop 2: tooltips in visit order with arrival and visit times
    tips = re.findall(r"<b>(\d)\. ([^<]*)</b><br>到达 (\d\d:\d\d) · 拜访 ([\d:-]+)", text)
    assert tips == [("1", "上海&lt;华东&gt;&amp;&quot;超市&quot;", "09:05", "09:05-10:05"),
                    ("2", "杭州茶叶店", "10:50", "11:00-11:45")]
    check_scripts_parse(html, tmp_path)


def test_markers_big_enough_for_a_tablet(region, plan):
    html = html_of(render_rep_day_map(region, plan, "R1", DAY1))
    css = re.search(r"\.fvp-stop\{([^}]*)\}", html).group(1)
    assert int(re.search(r"width:(\d+)px", css).group(1)) >= 28
    assert int(re.search(r"font:bold (\d+)px", css).group(1)) >= 16
    assert "iconSize: [34, 34]" in html


def test_popup_content(region, plan):
    text = unescape_js(html_of(render_rep_day_map(region, plan, "R1", DAY1)))
    assert "上海市黄浦区南京东路1号" in text  # address
    assert "A 重点客户" in text and "09:00-12:00,14:00-18:00" in text and "60 分钟" in text
    assert "等待</th><td>10 分钟" in text  # C2: arrives 10:50, starts 11:00


def test_panel_lists_stops_lunch_and_totals(region, plan):
    html = html_of(render_rep_day_map(region, plan, "R1", DAY1))
    panel = html[html.index("<div class='fvp-panel'>"):]
    i1, i2 = panel.index("09:05-10:05"), panel.index("11:00-11:45")
    il = panel.index("12:00-13:00")
    assert i1 < i2 < il and "午餐" in panel
    assert "王伟 (R1)" in panel and "2026-11-30 周一" in panel
    assert "2 次拜访" in panel and "84.2 公里" in panel and "5.0 小时" in panel
    assert "08:30" in panel and "13:30" in panel  # depart and back


def test_route_line_home_stops_end(region, plan):
    html = html_of(render_rep_day_map(region, plan, "R2", DAY2, lang="en"))
    line = re.search(r"L\.polyline\(\s*(\[\[.*?\]\])", html, flags=re.S).group(1)
    assert line.replace(" ", "").replace("\n", "") == "[[31.15,121.65],[31.2,121.6],[31.16,121.66]]"
    assert "Lunch" not in html.split("fvp-panel'>")[1]  # no lunch on R2's short day
    assert "1 visits" in html and "Arrival 09:40" in html


def test_viewport_meta_for_tablets(region, plan):
    html = html_of(render_rep_day_map(region, plan, "R1", DAY1))
    metas = re.findall(r'<meta name="viewport"[^>]*>', html)
    assert metas[-1] == '<meta name="viewport" content="width=device-width, initial-scale=1">'


def test_date_as_string(region, plan):
    html = html_of(render_rep_day_map(region, plan, "R2", "2026-12-01"))
    assert "苏州加油站" in html


@pytest.mark.parametrize("rep_id, day", [("R1", DAY2), ("R2", DAY1), ("R9", DAY1)])
def test_no_route_that_day(region, plan, rep_id, day):
    with pytest.raises(KeyError) as e:
        render_rep_day_map(region, plan, rep_id, day)
    assert isinstance(e.value, ValueError) and isinstance(e.value, NoRouteError)
    assert rep_id in str(e.value) and day.isoformat() in str(e.value)
