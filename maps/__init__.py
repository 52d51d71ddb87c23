"""Maps of a region and its visit plan (folium / Leaflet HTML).

A leaf package: it reads ``planner.domain`` and ``planner.evaluation`` only.

- :func:`render_region_map` — every customer by grade, reps' homes and territories, routes per day.
- :func:`render_rep_day_map` — one rep's day for the tablet: numbered stops, route, stop list.
- :func:`write_maps` — ``region.html``, ``<rep_id>/<YYYY-MM-DD>.html`` per route, ``index.html``.

Routes are straight segments between stops unless ``legs`` (:data:`maps.common.Legs`: one road
polyline per leg, e.g. from :func:`planner.geo.geometry.route_legs`) is given.
"""
from maps.common import Legs, NoRouteError, convex_hull, esc
from maps.day_map import render_rep_day_map
from maps.i18n import LABELS, LANGS, t
from maps.region_map import render_region_map
from maps.writer import write_maps

__all__ = ["render_region_map", "render_rep_day_map", "write_maps", "NoRouteError", "LABELS",
           "LANGS", "t", "convex_hull", "esc", "Legs"]
