"""One rep's day on a map, for the rep's tablet: numbered stops, the route, a list panel."""
from __future__ import annotations

import datetime as dt

import folium
from branca.element import MacroElement
from jinja2 import Template

from planner.domain import Plan, Region, Route
from planner.evaluation.kpis import route_kpis

from maps.common import (
    FACTS_CSS,
    Legs,
    new_map,
    FixedHtml, MapContext, add_css, add_tablet_viewport, bounds_of, esc, facts_table, grade_colour,
    js_str, latlon, minutes_between, parse_day)
from maps.i18n import check_lang, t, weekday_name

_CSS = """
.fvp-stop{width:34px;height:34px;border-radius:50%;color:#fff;font:bold 18px/28px sans-serif;
 text-align:center;border:3px solid #fff;box-shadow:0 0 4px rgba(0,0,0,.7);box-sizing:border-box}
.fvp-home{font-size:22px;line-height:28px;text-align:center;width:34px;height:34px;
 border-radius:8px;color:#fff;border:3px solid #fff;box-shadow:0 0 4px rgba(0,0,0,.7);
 box-sizing:border-box}
.fvp-panel{position:fixed;top:12px;right:12px;z-index:9999;background:rgba(255,255,255,.96);
 border:1px solid #888;border-radius:8px;padding:10px 12px;font:16px/1.45 sans-serif;
 max-width:min(360px,46vw);max-height:70vh;overflow-y:auto;box-shadow:0 2px 6px rgba(0,0,0,.35)}
.fvp-panel h3{margin:0 0 6px;font-size:18px}
.fvp-panel table{border-collapse:collapse;width:100%}
.fvp-panel td{padding:2px 4px;vertical-align:top}
.fvp-panel td.n{font-weight:bold;text-align:center;width:26px}
.fvp-panel td.tm{white-space:nowrap}
.fvp-panel tr.lunch td{color:#555;font-style:italic}
.fvp-panel .tot{margin-top:6px;border-top:1px solid #ccc;padding-top:4px}
.leaflet-tooltip{font-size:15px}
"""


class StopMarkers(MacroElement):
    """The markers of a day (numbered stops, home, end) as one block of Leaflet code.

    Each stop is an ``L.marker`` with an ``L.divIcon`` showing its number (34 px, 18 px bold
    font), a popup and a tooltip. Written out directly rather than as one folium ``Marker`` +
    ``DivIcon`` + ``Popup`` + ``Tooltip`` per stop: folium compiles every rendered fragment as a
    Jinja template, which made writing hundreds of day maps slow. Popup and tooltip HTML must
    come escaped (:func:`maps.common.esc`); they are embedded as safe JS string literals.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.code() }}{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "StopMarkers"
        self.markers: list[tuple[tuple[float, float], str, str, int, str | None, str]] = []

    def add_stop(self, number: int, location: tuple[float, float], colour: str, popup_html: str,
                 tooltip_html: str) -> None:
        """A numbered stop; ``popup_html``/``tooltip_html`` already escaped."""
        icon = f'<div class="fvp-stop" style="background:{colour}">{number}</div>'
        self.markers.append((location, icon, "fvp-stop-icon", 1000 + number, popup_html,
                             tooltip_html))

    def add_home(self, location: tuple[float, float], colour: str, glyph: str,
                 tooltip_html: str) -> None:
        """The start or end location of the day; ``tooltip_html`` already escaped."""
        icon = f'<div class="fvp-home" style="background:{colour}">{glyph}</div>'
        self.markers.append((location, icon, "fvp-home-icon", 0, None, tooltip_html))

    def code(self) -> str:
        target = self._parent.get_name()
        out = []
        for (lat, lon), icon, cls, z, popup, tip in self.markers:
            js = (f"L.marker([{lat!r}, {lon!r}], {{icon: L.divIcon({{html: {js_str(icon)}, "
                  f"iconSize: [34, 34], iconAnchor: [17, 17], className: {js_str(cls)}}}), "
                  f"zIndexOffset: {z}}})")
            if popup is not None:
                js += f".bindPopup({js_str(popup)}, {{maxWidth: 340}})"
            js += f".bindTooltip({js_str(tip)}, {{direction: \"top\", offset: [0, -16]}})"
            out.append(f"{js}.addTo({target});")
        return "\n".join(out)


def _panel(ctx: MapContext, route: Route, lang: str) -> str:
    rep_label = ctx.rep_label(route.rep_id, lang)
    rows: list[tuple[dt.datetime, str]] = []
    for i, s in enumerate(route.stops, 1):
        c = ctx.customers.get(s.customer_id)
        name = c.name if c is not None else s.customer_id
        rows.append((s.start, f"<tr><td class='n'>{i}</td><td class='tm'>{s.start:%H:%M}-{s.end:%H:%M}"
                              f"</td><td>{esc(name)}</td></tr>"))
    if route.lunch_start is not None:
        rep = ctx.reps.get(route.rep_id)
        minutes = rep.lunch.minutes if rep is not None and rep.lunch is not None else 60
        lunch_end = route.lunch_start + dt.timedelta(minutes=minutes)
        rows.append((route.lunch_start,
                     f"<tr class='lunch'><td class='n'>&#127857;</td><td class='tm'>"
                     f"{route.lunch_start:%H:%M}-{lunch_end:%H:%M}</td><td>{esc(t('lunch', lang))}"
                     f"</td></tr>"))
    rows.sort(key=lambda x: x[0])  # stable: a stop and lunch at the same minute keep stop first
    k = route_kpis(route)
    body = "".join(r for _, r in rows)
    return (
        f"<div class='fvp-panel'><h3>{esc(rep_label)}<br>{route.date.isoformat()} "
        f"{esc(weekday_name(route.date, lang))}</h3><table>"
        f"<tr><td class='n'>&#8962;</td><td class='tm'>{route.depart:%H:%M}</td>"
        f"<td>{esc(t('depart', lang))}</td></tr>{body}"
        f"<tr><td class='n'>&#8962;</td><td class='tm'>{route.back:%H:%M}</td>"
        f"<td>{esc(t('back', lang))}</td></tr></table>"
        f"<div class='tot'><b>{esc(t('total', lang))}</b>: {k.visits} {esc(t('visits', lang))} · "
        f"{k.distance_km:.1f} {esc(t('km', lang))} · {k.work_hours:.1f} {esc(t('hours', lang))}"
        f"<br>{esc(t('drive_time', lang))}: {k.drive_hours:.1f} {esc(t('hours', lang))}</div></div>"
    )


def build_day_map(ctx: MapContext, rep_id: str, day: dt.date | str, lang: str = "zh") -> folium.Map:
    """The day map from a prepared :class:`MapContext` (see :func:`render_rep_day_map`)."""
    check_lang(lang)
    day = parse_day(day)
    route = ctx.route(rep_id, day)
    colour = ctx.colour_of(rep_id)
    rep = ctx.reps.get(rep_id)

    m = new_map(control_scale=True, location=[0, 0], zoom_start=2)
    add_tablet_viewport(m)
    add_css(m, _CSS + FACTS_CSS, "fvp_day_css")

    line = ctx.route_path(route)  # straight segments, or the road geometry of each leg
    if len(line) >= 2:
        folium.PolyLine(locations=line, color=colour, weight=5, opacity=0.8).add_to(m)

    stops = StopMarkers()
    if rep is not None:
        stops.add_home(latlon(rep.start), colour, "&#8962;",
                       esc(f"{t('depart', lang)} {route.depart:%H:%M} · {ctx.rep_label(rep_id, lang)}"))
        if rep.end_location != rep.start:
            stops.add_home(latlon(rep.end_location), colour, "&#9873;",
                           esc(f"{t('back', lang)} {route.back:%H:%M}"))
    for i, s in enumerate(route.stops, 1):
        c = ctx.customers.get(s.customer_id)
        if c is None:
            continue
        visit = f"{s.start:%H:%M}-{s.end:%H:%M}"
        rows = [(t("stop", lang), str(i)), (t("arrival", lang), f"{s.arrival:%H:%M}"),
                (t("visit", lang), visit)]
        wait = minutes_between(s.arrival, s.start)
        if wait > 0:
            rows.append((t("wait", lang), f"{wait} {t('minutes', lang)}"))
        rows += ctx.customer_facts(c, lang)
        if c.address:
            rows.append((t("address", lang), c.address))
        popup = f"<b style='font-size:17px'>{i}. {esc(c.name)}</b>{facts_table(rows)}"
        tip = (f"<b>{i}. {esc(c.name)}</b><br>{esc(t('arrival', lang))} {s.arrival:%H:%M} · "
               f"{esc(t('visit', lang))} {visit}")
        stops.add_stop(i, latlon(c.location), grade_colour(c), popup, tip)
    stops.add_to(m)

    m.add_child(FixedHtml(_panel(ctx, route, lang)), name="fvp_panel")
    if line:
        m.fit_bounds(bounds_of(line), padding=(30, 30))
    return m


def render_rep_day_map(region: Region, plan: Plan, rep_id: str, date: dt.date | str,
                       lang: str = "zh", legs: Legs | None = None) -> folium.Map:
    """The route of ``rep_id`` on ``date`` for a tablet: numbered stops in visit order.

    Tooltips and popups give arrival and visit times, name, grade, opening hours, visit length
    and address; the route runs home -> stops -> end location; a fixed panel lists the stops
    (with lunch) and the day's totals. Raises :class:`maps.NoRouteError` (a KeyError and a
    ValueError) when the rep has no route with stops that day.

    ``legs``: road geometry per ``(rep_id, date)``, one (lat, lon) polyline per leg (start ->
    stops -> end, e.g. from :func:`planner.geo.geometry.route_legs`), drawn instead of straight
    segments; without it (the default) the route is drawn straight.
    """
    check_lang(lang)
    return build_day_map(MapContext(region, plan, legs), rep_id, date, lang)
