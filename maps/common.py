"""Shared pieces of the maps: escaping, colours, convex hulls, lookups, small folium elements."""
from __future__ import annotations

import colorsys
import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Iterable, Mapping, Sequence

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from planner.domain import Customer, Location, Plan, Region, Rep, Route, format_windows

from maps.i18n import frequency_label, grade_label, t

GRADE_COLOURS: dict[str, str] = {"A": "#d62728", "B": "#ff7f0e", "C": "#1f77b4", "D": "#2ca02c"}
INACTIVE_COLOUR = "#9e9e9e"
OTHER_GRADE_COLOUR = "#6a3d9a"
UNASSIGNED_COLOUR = "#000000"

_PALETTE: tuple[str, ...] = (
    "#1f77b4", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#843c39", "#637939", "#7b4173", "#3182bd", "#fd8d3c", "#74c476",
    "#9e9ac8", "#ad494a", "#5254a3", "#8ca252",
)

VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'

_EXTRA_ENTITIES = {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}


def esc(text: object) -> str:
    """HTML-escape ``text`` so that it is also safe inside folium's generated page.

    Besides ``< > & " '``: folium puts popup and tooltip HTML into JavaScript backtick strings
    (so ``` ` ``` ``$`` ``\\`` must go), and it re-reads every rendered fragment as a Jinja
    template (so ``{`` ``}`` must go, or a name like ``{{ 7*7 }}`` would be evaluated).
    All of them become character references, which the browser shows unchanged.
    """
    s = html.escape("" if text is None else str(text), quote=True)
    return re.sub(r"[`$\\{}]", lambda m: _EXTRA_ENTITIES[m.group(0)], s)


_JS_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "{": "\\u007b", "}": "\\u007d",
              "\u2028": "\\u2028", "\u2029": "\\u2029"}


def js_str(value: object) -> str:
    """A JavaScript string literal of ``value`` that is safe in a ``<script>`` block and in a
    fragment that folium re-reads as a Jinja template (no ``<``, ``{`` or ``}`` left raw)."""
    return re.sub(r"[<>&{}\u2028\u2029]", lambda m: _JS_UNSAFE[m.group(0)],
                  json.dumps("" if value is None else str(value), ensure_ascii=False))


def safe_filename(text: str) -> str:
    """A file-name-safe form of an id (letters, digits, ``_ . -``; others become ``_``)."""
    s = re.sub(r"[^0-9A-Za-z_.\-]", "_", str(text)).strip(".")
    return s or "_"


def rep_colour(index: int) -> str:
    """A distinct colour for the ``index``-th rep (a fixed palette, then golden-angle hues)."""
    if index < len(_PALETTE):
        return _PALETTE[index]
    h = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(h, 0.42, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def grade_colour(customer: Customer) -> str:
    """Marker colour of a customer: by grade, grey when inactive."""
    if not customer.active:
        return INACTIVE_COLOUR
    return GRADE_COLOURS.get(customer.grade, OTHER_GRADE_COLOUR)


def convex_hull(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (Andrew's monotone chain) of 2-D points, counter-clockwise, no repeats.

    Fewer than three distinct points are returned as they are (sorted).
    """
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def latlon(loc: Location) -> tuple[float, float]:
    return (loc.lat, loc.lon)


def bounds_of(points: Sequence[tuple[float, float]]) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of (lat, lon) points (a small box around one point)."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    s, n, w, e = min(lats), max(lats), min(lons), max(lons)
    if n - s < 1e-3:
        s, n = s - 0.005, n + 0.005
    if e - w < 1e-3:
        w, e = w - 0.005, e + 0.005
    return [[s, w], [n, e]]


def parse_day(day: dt.date | str) -> dt.date:
    """A date, or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    try:
        return dt.date.fromisoformat(str(day))
    except ValueError:
        raise ValueError(f"bad date {day!r}, expected YYYY-MM-DD") from None


def minutes_between(a: dt.datetime, b: dt.datetime) -> int:
    return round((b - a).total_seconds() / 60)


#: Road geometry of routes: per ``(rep_id, date)``, one polyline of (lat, lon) points per leg,
#: in driving order (start -> stop 1 -> ... -> end location).
Legs = Mapping[tuple[str, dt.date], Sequence[Sequence[tuple[float, float]]]]


@dataclass
class MapContext:
    """Lookups computed once per region and plan, shared by all maps written together.

    ``legs``: optional road geometry of the routes (see :data:`Legs` and :meth:`route_path`);
    without it, routes are drawn as straight segments between their stops.
    """

    region: Region
    plan: Plan | None
    legs: Legs | None = None
    customers: dict[str, Customer] = field(init=False)
    reps: dict[str, Rep] = field(init=False)
    colours: dict[str, str] = field(init=False)
    routes: dict[tuple[str, dt.date], Route] = field(init=False)
    assigned_rep: dict[str, str] = field(init=False)
    visit_days: dict[str, list[dt.date]] = field(init=False)
    unplanned: dict[str, list[tuple[dt.date | None, str]]] = field(init=False)

    def __post_init__(self) -> None:
        self.customers = {c.id: c for c in self.region.customers}
        self.reps = {r.id: r for r in self.region.reps}
        rep_ids = [r.id for r in self.region.reps]
        self.routes = {}
        self.visit_days = {}
        self.assigned_rep = {}
        self.unplanned = {}
        if self.plan is not None:
            for r in sorted(self.plan.routes, key=lambda r: (r.date, r.rep_id)):
                if not r.stops:
                    continue
                self.routes[(r.rep_id, r.date)] = r
                if r.rep_id not in rep_ids:
                    rep_ids.append(r.rep_id)
                for s in r.stops:
                    self.visit_days.setdefault(s.customer_id, []).append(r.date)
                    self.assigned_rep.setdefault(s.customer_id, r.rep_id)
            self.assigned_rep.update(self.plan.assignment)
            for u in self.plan.unassigned:
                if u.code != "inactive":
                    self.unplanned.setdefault(u.customer_id, []).append((u.date, u.reason))
        else:
            for c in self.region.customers:
                if c.rep_id:
                    self.assigned_rep[c.id] = c.rep_id
        self.colours = {rid: rep_colour(i) for i, rid in enumerate(rep_ids)}

    def rep_label(self, rep_id: str | None, lang: str) -> str:
        """``Name (id)`` of a rep, or the not-assigned label (not escaped)."""
        if not rep_id:
            return t("not_assigned", lang)
        rep = self.reps.get(rep_id)
        return f"{rep.name} ({rep_id})" if rep is not None and rep.name else rep_id

    def colour_of(self, rep_id: str | None) -> str:
        return self.colours.get(rep_id or "", "#555555")

    def route(self, rep_id: str, day: dt.date) -> Route:
        """The route of ``rep_id`` on ``day`` with at least one stop, else NoRouteError."""
        r = self.routes.get((rep_id, day))
        if r is None:
            if self.plan is None:
                raise NoRouteError(f"no plan given: rep {rep_id!r} has no route on {day.isoformat()}")
            known = rep_id in self.reps or any(k[0] == rep_id for k in self.routes)
            why = "" if known else " (unknown rep)"
            raise NoRouteError(f"rep {rep_id!r}{why} has no route with stops on {day.isoformat()} "
                               f"in plan {self.plan.plan_id!r}")
        return r

    def route_points(self, r: Route) -> list[tuple[float, float]]:
        """The points a route drives through: the rep's start, its stops whose customers are in
        the region, the rep's end location (start and end only if the rep is known)."""
        rep = self.reps.get(r.rep_id)
        line = [latlon(rep.start)] if rep is not None else []
        line += [latlon(self.customers[s.customer_id].location) for s in r.stops
                 if s.customer_id in self.customers]
        if rep is not None:
            line.append(latlon(rep.end_location))
        return line

    def route_path(self, r: Route) -> list[tuple[float, float]]:
        """The polyline to draw for a route: :meth:`route_points` joined by straight segments,
        or by the road geometry of each leg when ``legs`` has this route with one polyline per
        leg (a leg of fewer than two points stays straight; legs that do not match the route's
        points, e.g. computed before a customer was deleted, are ignored)."""
        points = self.route_points(r)
        legs = self.legs.get((r.rep_id, r.date)) if self.legs else None
        if not legs or len(legs) != len(points) - 1:
            return points
        path: list[tuple[float, float]] = []
        for (a, b), leg in zip(pairwise(points), legs):
            pts = [(float(p[0]), float(p[1])) for p in leg] if len(leg) >= 2 else [a, b]
            if path and path[-1] == pts[0]:
                pts = pts[1:]
            path.extend(pts)
        return path

    def customer_facts(self, c: Customer, lang: str) -> list[tuple[str, str]]:
        """(label, value) rows describing a customer: grade, frequency, visit length, opening."""
        policy = self.region.policy
        try:
            f = policy.frequency_of(c)
            freq = frequency_label(f.visits, f.weeks, lang)
        except ValueError:
            freq = "-"
        try:
            minutes = f"{policy.visit_minutes_of(c)} {t('minutes', lang)}"
        except ValueError:
            minutes = "-"
        opening = format_windows(c.opening) or t("open_all_day", lang)
        return [(t("grade", lang), grade_label(c.grade, lang)), (t("frequency", lang), freq),
                (t("visit_length", lang), minutes), (t("opening_hours", lang), opening)]


class NoRouteError(KeyError, ValueError):
    """The rep has no route with stops on the requested day (both a KeyError and a ValueError)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def facts_table(rows: Sequence[tuple[str, str]]) -> str:
    """A small HTML table of (label, value) rows; both are escaped here."""
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f"<table class='fvp-facts'>{cells}</table>"


FACTS_CSS = (".fvp-facts{font-size:14px}"
             ".fvp-facts th{text-align:left;padding-right:8px;white-space:nowrap;vertical-align:top}")


class FixedHtml(MacroElement):
    """Raw HTML placed in the page body (legends, panels): positioned by its own CSS."""

    _template = Template("""
        {% macro html(this, kwargs) %}{{ this.content }}{% endmacro %}
    """)

    def __init__(self, content: str):
        super().__init__()
        self._name = "FixedHtml"
        self.content = content


class _ViewportLast(MacroElement):
    """Moves the tablet viewport meta tag after folium's own one (the last one wins)."""

    _template = Template("")

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        if isinstance(figure, Figure):
            meta = figure.header._children.pop("tablet_viewport", None)
            figure.header.add_child(meta or Element(VIEWPORT_META), name="tablet_viewport")
        super().render(**kwargs)


def add_tablet_viewport(m: folium.Map) -> None:
    """Add ``<meta name="viewport" content="width=device-width, initial-scale=1">`` to the page."""
    m.get_root().header.add_child(Element(VIEWPORT_META), name="tablet_viewport")
    m.add_child(_ViewportLast(), name="tablet_viewport_last")


@lru_cache(maxsize=1)
def _osm_provider():
    """The OpenStreetMap tile provider, looked up once (folium's lookup by name is slow)."""
    import xyzservices  # a dependency of folium

    return xyzservices.providers.query_name("OpenStreetMap Mapnik")


def new_map(**kwargs) -> folium.Map:
    """A folium map with OpenStreetMap tiles, cheap to create many times."""
    m = folium.Map(tiles=None, **kwargs)
    folium.TileLayer(_osm_provider(), name="OpenStreetMap", control=False).add_to(m)
    return m


def add_css(m: folium.Map, css: str, name: str) -> None:
    """A ``<style>`` block in the page header."""
    m.get_root().header.add_child(Element(f"<style>{css}</style>"), name=name)


class MarkerBatch(MacroElement):
    """Many markers of one layer as a single block of Leaflet code.

    Folium compiles every rendered fragment of every element as a Jinja template; for thousands
    of customers that is most of the time and size of a map. A batch writes one
    ``L.circleMarker(...)`` / ``L.marker(...)`` statement per marker itself. Popup and tooltip
    HTML must come escaped (:func:`esc`); they are embedded as safe JS string literals.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.code() }}{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "MarkerBatch"
        self.lines: list[str] = []

    def __len__(self) -> int:
        return len(self.lines)

    def add_circle(self, location: tuple[float, float], *, radius: float, colour: str,
                   fill_colour: str, weight: float = 1, dash: str | None = None,
                   fill_opacity: float = 0.9, popup_html: str | None = None,
                   tooltip_html: str | None = None, popup_width: int = 320) -> None:
        """A ``L.circleMarker`` (fixed size in pixels)."""
        opts = (f"{{radius: {radius!r}, color: {js_str(colour)}, weight: {weight!r}, "
                f"dashArray: {js_str(dash) if dash else 'null'}, fill: true, "
                f"fillColor: {js_str(fill_colour)}, fillOpacity: {fill_opacity!r}}}")
        self.lines.append(self._finish(f"L.circleMarker([{location[0]!r}, {location[1]!r}], {opts})",
                                       popup_html, tooltip_html, popup_width))

    def add_div(self, location: tuple[float, float], *, icon_html: str, size: tuple[int, int],
                anchor: tuple[int, int], class_name: str, z_index: int = 0,
                popup_html: str | None = None, tooltip_html: str | None = None,
                popup_width: int = 320) -> None:
        """A ``L.marker`` with an ``L.divIcon`` (``icon_html`` is trusted markup)."""
        icon = (f"L.divIcon({{html: {js_str(icon_html)}, iconSize: [{size[0]}, {size[1]}], "
                f"iconAnchor: [{anchor[0]}, {anchor[1]}], className: {js_str(class_name)}}})")
        self.lines.append(self._finish(
            f"L.marker([{location[0]!r}, {location[1]!r}], {{icon: {icon}, zIndexOffset: {z_index}}})",
            popup_html, tooltip_html, popup_width))

    @staticmethod
    def _finish(js: str, popup: str | None, tip: str | None, width: int) -> str:
        if popup is not None:
            js += f".bindPopup({js_str(popup)}, {{maxWidth: {width}}})"
        if tip is not None:
            js += f".bindTooltip({js_str(tip)}, {{sticky: true}})"
        return js

    def code(self) -> str:
        target = self._parent.get_name()
        return "\n".join(f"{line}.addTo({target});" for line in self.lines)
