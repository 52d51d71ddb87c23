"""The region map: every customer by grade, each rep's home and territory, routes per day."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Mapping

import folium

from planner.domain import Customer, Plan, Region

from maps.common import (
    FACTS_CSS,
    Legs,
    new_map,
    GRADE_COLOURS, INACTIVE_COLOUR, OTHER_GRADE_COLOUR, UNASSIGNED_COLOUR, FixedHtml, MapContext,
    MarkerBatch,
    add_css, add_tablet_viewport, bounds_of, convex_hull, esc, facts_table, grade_colour, latlon)
from maps.i18n import check_lang, grade_label, t, weekday_name

_CSS = """
.fvp-legend{position:fixed;bottom:24px;left:12px;z-index:9999;background:rgba(255,255,255,.95);
 border:1px solid #999;border-radius:6px;padding:8px 10px;font:14px/1.4 sans-serif;
 max-height:45vh;overflow-y:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.fvp-legend h4{margin:0 0 4px;font-size:15px}
.fvp-legend .sw{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:6px;
 vertical-align:middle;border:1px solid #333}
.fvp-legend .ln{display:inline-block;width:18px;height:4px;margin-right:6px;vertical-align:middle}
.fvp-home{font-size:20px;line-height:26px;text-align:center;width:28px;height:28px;
 border-radius:6px;color:#fff;border:2px solid #fff;box-shadow:0 0 3px #000}
.fvp-warn{font:bold 14px/18px sans-serif;text-align:center;width:18px;height:18px;
 border-radius:50%;background:#000;color:#ff0;border:1px solid #ff0}
"""


def _home_icon(colour: str) -> folium.DivIcon:
    return folium.DivIcon(html=f'<div class="fvp-home" style="background:{colour}">&#8962;</div>',
                          icon_size=(28, 28), icon_anchor=(14, 14), class_name="fvp-home-icon")


def _customer_popup(ctx: MapContext, c: Customer, lang: str) -> str:
    rows = [(t("customer", lang), c.id), *ctx.customer_facts(c, lang),
            (t("rep", lang), ctx.rep_label(ctx.assigned_rep.get(c.id), lang))]
    if c.address:
        rows.append((t("address", lang), c.address))
    days = ctx.visit_days.get(c.id)
    if days:
        rows.append((t("visit", lang),
                     ", ".join(f"{d:%m-%d} {weekday_name(d, lang)}" for d in days)))
    for day, reason in ctx.unplanned.get(c.id, []):
        rows.append((t("unassigned", lang), f"{day.isoformat() if day else '-'}: {reason}"))
    if not c.active:
        rows.append((t("inactive", lang), "✔"))
    return f"<b style='font-size:15px'>{esc(c.name)}</b>{facts_table(rows)}"


def _legend(ctx: MapContext, lang: str, rep_ids: list[str], with_unplanned: bool) -> str:
    parts = [f"<div class='fvp-legend'><h4>{esc(t('legend', lang))}</h4>",
             f"<div><b>{esc(t('grade', lang))}</b></div>"]
    grades = list(ctx.region.policy.grades)
    for g in sorted({c.grade for c in ctx.region.customers} - set(grades)):
        grades.append(g)
    for g in grades:
        colour = GRADE_COLOURS.get(g, OTHER_GRADE_COLOUR)
        parts.append(f"<div><span class='sw' style='background:{colour}'></span>"
                     f"{esc(grade_label(g, lang))}</div>")
    parts.append(f"<div><span class='sw' style='background:{INACTIVE_COLOUR}'></span>"
                 f"{esc(t('inactive', lang))}</div>")
    if with_unplanned:
        parts.append(f"<div><span class='sw' style='background:#fff;border:3px solid "
                     f"{UNASSIGNED_COLOUR}'></span>{esc(t('unassigned', lang))}</div>")
    parts.append(f"<div style='margin-top:4px'><b>{esc(t('reps', lang))}</b> "
                 f"(&#8962; {esc(t('home', lang))})</div>")
    for rid in rep_ids:
        parts.append(f"<div><span class='ln' style='background:{ctx.colour_of(rid)}'></span>"
                     f"{esc(ctx.rep_label(rid, lang))}</div>")
    parts.append("</div>")
    return "".join(parts)


def build_region_map(ctx: MapContext, lang: str = "zh") -> folium.Map:
    """The region map from a prepared :class:`MapContext` (see :func:`render_region_map`)."""
    check_lang(lang)
    region, plan = ctx.region, ctx.plan
    m = new_map(control_scale=True, prefer_canvas=True,
                   location=[0, 0], zoom_start=2)
    add_tablet_viewport(m)
    add_css(m, _CSS + FACTS_CSS, "fvp_region_css")

    rep_ids = list(ctx.colours)
    groups: dict[str, folium.FeatureGroup] = {}
    for rid in rep_ids:
        groups[rid] = folium.FeatureGroup(name=esc(f"{t('rep', lang)}: {ctx.rep_label(rid, lang)}"),
                                          show=True)
    extra_groups: dict[str, folium.FeatureGroup] = {}

    def extra(key: str) -> folium.FeatureGroup:
        if key not in extra_groups:
            extra_groups[key] = folium.FeatureGroup(name=esc(t(key, lang)), show=True)
        return extra_groups[key]

    batches: dict[str, MarkerBatch] = {}

    def batch(key: str, group: folium.FeatureGroup) -> MarkerBatch:
        if key not in batches:
            batches[key] = MarkerBatch()
            group.add_child(batches[key], name=f"customers_{len(batches)}")
        return batches[key]

    points: list[tuple[float, float]] = []
    territory: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c in region.customers:
        p = latlon(c.location)
        points.append(p)
        rid = ctx.assigned_rep.get(c.id)
        unplanned = c.id in ctx.unplanned and c.active
        colour = "#333333" if c.active else "#777777"
        weight = 1
        dash = None
        if unplanned:
            colour, weight, dash = UNASSIGNED_COLOUR, 3, "4 3"
        if not c.active:
            target = batch("~inactive", extra("inactive"))
        elif rid and rid in groups:
            target = batch(rid, groups[rid])
            territory[rid].append(p)
        else:
            target = batch("~not_assigned", extra("not_assigned"))
        target.add_circle(p, radius=7 if c.grade == "A" else 6, colour=colour, weight=weight,
                          dash=dash, fill_colour=grade_colour(c),
                          popup_html=_customer_popup(ctx, c, lang),
                          tooltip_html=esc(f"{c.name} · {grade_label(c.grade, lang)}"))
        if unplanned:
            reasons = "; ".join(f"{d.isoformat() if d else '-'}: {r}" for d, r in ctx.unplanned[c.id])
            batch("~unassigned", extra("unassigned")).add_div(
                p, icon_html="<div class='fvp-warn'>!</div>", size=(18, 18), anchor=(-4, 22),
                class_name="fvp-warn-icon", z_index=500,
                tooltip_html=esc(f"{c.name}: {reasons}"))

    for rid in rep_ids:
        colour = ctx.colour_of(rid)
        rep = ctx.reps.get(rid)
        g = groups[rid]
        if rep is not None:
            home = latlon(rep.start)
            points.append(home)
            folium.Marker(location=home, icon=_home_icon(colour),
                          tooltip=folium.Tooltip(esc(f"{t('home', lang)}: {ctx.rep_label(rid, lang)}")),
                          ).add_to(g)
            if rep.end is not None and rep.end != rep.start:
                points.append(latlon(rep.end))
                folium.Marker(location=latlon(rep.end), icon=_home_icon(colour),
                              tooltip=folium.Tooltip(esc(f"{t('back', lang)}: {ctx.rep_label(rid, lang)}")),
                              ).add_to(g)
        pts = territory.get(rid, [])
        tip = folium.Tooltip(esc(f"{ctx.rep_label(rid, lang)} {t('territory', lang)} "
                                 f"({len(pts)} {t('customers', lang)})"))
        # Hull in (lon, lat) so that the orientation is the usual x/y one.
        hull = [(lat, lon) for lon, lat in convex_hull((lon, lat) for lat, lon in pts)]
        if len(hull) >= 3:
            folium.Polygon(locations=hull, color=colour, weight=2, fill=True, fill_color=colour,
                           fill_opacity=0.08, tooltip=tip).add_to(g)
        elif len(hull) == 2:
            folium.PolyLine(locations=hull, color=colour, weight=3, dash_array="6 4",
                            tooltip=tip).add_to(g)
        elif len(hull) == 1:
            folium.Circle(location=hull[0], radius=300, color=colour, weight=2, fill=True,
                          fill_opacity=0.08, tooltip=tip).add_to(g)
        g.add_to(m)

    # Routes, one layer per day (hidden at first: switch days on in the layer control).
    if plan is not None:
        by_day: dict[dt.date, list] = defaultdict(list)
        for (rid, day), r in ctx.routes.items():
            by_day[day].append(r)
        for day in sorted(by_day):
            fg = folium.FeatureGroup(name=esc(f"{t('route', lang)} {day.isoformat()} "
                                              f"{weekday_name(day, lang)}"), show=False)
            for r in sorted(by_day[day], key=lambda r: r.rep_id):
                line = ctx.route_path(r)
                if len(line) >= 2:
                    folium.PolyLine(
                        locations=line, color=ctx.colour_of(r.rep_id), weight=3, opacity=0.85,
                        tooltip=folium.Tooltip(esc(
                            f"{ctx.rep_label(r.rep_id, lang)} · {day.isoformat()} · "
                            f"{len(r.stops)} {t('visits', lang)} · {r.distance_km:.1f} {t('km', lang)}")),
                    ).add_to(fg)
            fg.add_to(m)

    for key in ("not_assigned", "inactive", "unassigned"):
        if key in extra_groups:
            extra_groups[key].add_to(m)

    m.add_child(FixedHtml(_legend(ctx, lang, rep_ids, with_unplanned=bool(ctx.unplanned))),
                name="fvp_legend")
    folium.LayerControl(collapsed=True).add_to(m)
    if points:
        m.fit_bounds(bounds_of(points))
    return m


def render_region_map(region: Region, plan: Plan | None = None, lang: str = "zh",
                      legs: Legs | None = None, *, territories: Mapping[str, str] | None = None) -> folium.Map:
    """Every customer of ``region`` on one map, coloured by grade (grey when inactive).

    Popups give name, grade, frequency, visit length, opening hours and the assigned rep. Each
    rep has a layer with its customers, home and territory (the convex hull of its customers,
    in the rep's colour); with a ``plan`` there is one layer of route lines per day and the
    unplanned visits are highlighted. Without a plan, territories come from the customers' pins.
    A fixed legend (grades and reps) is in ``lang`` (``zh`` or ``en``).

    ``legs``: road geometry per ``(rep_id, date)``, one (lat, lon) polyline per leg (see
    :func:`maps.render_rep_day_map`); routes are drawn straight without it (the default).

    ``territories``: customer id -> rep id, e.g. proposed territories (``planner territories
    --map``): each rep's layer, hull and popups follow it instead of the plan or the pins.
    """
    check_lang(lang)
    ctx = MapContext(region, plan, legs)
    if territories is not None:
        ctx.assigned_rep = dict(territories)
    return build_region_map(ctx, lang)
