import dataclasses

import folium
import pytest

from maps import convex_hull, render_region_map
from maps.i18n import LABELS
from tests.maps.helpers import check_scripts_parse, unescape_js
from tests.tiny_plan import NASTY_NAME


def html_of(m: folium.Map) -> str:
    return m.get_root().render()


def test_every_customer_has_a_circle_marker(region, plan, tmp_path):
    m = render_region_map(region, plan)
    assert isinstance(m, folium.Map)
    html = html_of(m)
    assert html.count("L.circleMarker(") == len(region.customers) == 3
    check_scripts_parse(html, tmp_path)


def test_grade_colours_and_popups(region, plan):
    html = unescape_js(html_of(render_region_map(region, plan)))
    for colour in ("#d62728", "#ff7f0e", "#1f77b4"):  # A red, B orange, C blue
        assert f'fillColor: "{colour}"' in html
    assert "每周2次" in html  # C1's frequency (grade A)
    assert "60 分钟" in html and "09:00-12:00,14:00-18:00" in html
    assert "王伟 (R1)" in html and "李娜 (R2)" in html  # assigned reps in popups / legend


def test_inactive_customer_is_grey(region, plan):
    custs = (dataclasses.replace(region.customers[0], active=False), *region.customers[1:])
    html = html_of(render_region_map(dataclasses.replace(region, customers=custs), plan))
    assert 'fillColor: "#9e9e9e"' in html
    assert html.count("L.circleMarker(") == 3


def test_legend_in_both_languages(region, plan):
    zh = html_of(render_region_map(region, plan, lang="zh"))
    en = html_of(render_region_map(region, plan, lang="en"))
    assert "fvp-legend" in zh and "图例" in zh and "A 重点客户" in zh and "无效客户" in zh
    assert "Legend" in en and "A key account" in en and "Inactive" in en
    assert "图例" not in en


def test_layers_per_rep_and_day_and_unplanned(region, plan):
    html = unescape_js(html_of(render_region_map(region, plan)))
    assert html.count("L.featureGroup(") >= 2 + 2  # two reps + two days (+ unplanned)
    assert "路线 2026-11-30 周一" in html and "路线 2026-12-01 周二" in html
    assert "fvp-warn" in html and "R1 is fully booked on 2026-12-03" in html
    assert "L.control.layers(" in html
    assert "fitBounds" in html


def test_names_are_escaped(region, plan):
    html = html_of(render_region_map(region, plan))
    assert NASTY_NAME not in html and "<华东>" not in html
    assert "上海&lt;华东&gt;&amp;&quot;超市&quot;" in unescape_js(html)


def test_template_syntax_in_names_is_not_evaluated(region, plan):
    custs = (dataclasses.replace(region.customers[0], name="X{{ 6*7 }}Y"), *region.customers[1:])
    html = html_of(render_region_map(dataclasses.replace(region, customers=custs), plan))
    assert "X42Y" not in html
    assert "X&#123;&#123; 6*7 &#125;&#125;Y" in unescape_js(html)


def test_without_plan_territories_from_pins(region, tmp_path):
    custs = tuple(dataclasses.replace(c, rep_id="R1") for c in region.customers)
    html = html_of(render_region_map(dataclasses.replace(region, customers=custs), None, lang="en"))
    assert html.count("L.circleMarker(") == 3
    assert html.count("L.polygon(") == 1  # R1's territory: hull of its three pinned customers
    assert "Legend" in html and "Route " not in html
    check_scripts_parse(html, tmp_path)


def test_unknown_language(region):
    with pytest.raises(ValueError, match="zh"):
        render_region_map(region, None, lang="fr")


def test_convex_hull():
    pts = [(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0)]
    assert sorted(convex_hull(pts)) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert convex_hull([(1, 1), (1, 1)]) == [(1, 1)]
    assert convex_hull([(0, 0), (1, 1), (2, 2)]) == [(0, 0), (2, 2)]  # collinear: the ends


def test_label_sets_match():
    assert set(LABELS["zh"]) == set(LABELS["en"])
