"""Write the region map, one map per rep and day, and an index page linking them."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from planner.domain import Plan, Region, Route

from maps.common import VIEWPORT_META, Legs, MapContext, esc, safe_filename
from maps.day_map import build_day_map
from maps.i18n import check_lang, t, weekday_name
from maps.region_map import build_region_map


def day_map_path(out_dir: Path, rep_id: str, route: Route) -> Path:
    """``out_dir/<rep_id>/<YYYY-MM-DD>.html`` (the rep id made file-name safe)."""
    return Path(out_dir) / safe_filename(rep_id) / f"{route.date.isoformat()}.html"


def _index_html(ctx: MapContext, out_dir: Path, lang: str,
                day_files: dict[str, list[tuple[Route, Path]]]) -> str:
    plan = ctx.plan
    title = t("index_title", lang)
    if plan is not None:
        title += f" · {plan.plan_id} ({plan.start.isoformat()} – {plan.end.isoformat()})"
    parts = [
        "<!DOCTYPE html>", f"<html lang='{lang}'><head><meta charset='utf-8'>", VIEWPORT_META,
        f"<title>{esc(title)}</title><style>"
        "body{font:16px/1.5 sans-serif;margin:16px;max-width:1100px}"
        "h2{font-size:18px;margin:18px 0 6px;display:flex;align-items:center;gap:8px}"
        ".sw{display:inline-block;width:16px;height:16px;border-radius:3px}"
        "ul.days{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:6px}"
        "ul.days a{display:inline-block;padding:6px 10px;border:1px solid #bbb;border-radius:6px;"
        "text-decoration:none;color:#124}"
        "ul.days a small{color:#666}"
        "</style></head><body>",
        f"<h1 style='font-size:22px'>{esc(title)}</h1>",
        f"<p><a href='region.html' style='font-size:18px'>{esc(t('region_map', lang))}</a></p>",
    ]
    if day_files:
        parts.append(f"<h2>{esc(t('day_maps', lang))}</h2>")
    for rep_id in sorted(day_files):
        parts.append(f"<section><h2><span class='sw' style='background:{ctx.colour_of(rep_id)}'>"
                     f"</span>{esc(ctx.rep_label(rep_id, lang))}</h2><ul class='days'>")
        for route, path in day_files[rep_id]:
            href = "/".join(quote(p) for p in path.relative_to(out_dir).parts)
            km = f"{route.distance_km:.1f} {t('km', lang)}"
            parts.append(f"<li><a href='{esc(href)}'>{route.date.isoformat()} "
                         f"{esc(weekday_name(route.date, lang))} <small>{len(route.stops)} "
                         f"{esc(t('visits', lang))} · {esc(km)}</small></a></li>")
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_maps(region: Region, plan: Plan | None, out_dir: Path, lang: str = "zh",
               legs: Legs | None = None) -> list[Path]:
    """Write ``region.html``, ``<rep_id>/<YYYY-MM-DD>.html`` per route with stops, ``index.html``.

    Lookups (customers, reps, colours, routes) are computed once and shared by all the maps.
    ``legs``: road geometry per ``(rep_id, date)``, one (lat, lon) polyline per leg, drawn on
    the region and day maps instead of straight segments (default: straight).
    Returns every file written, the index last.
    """
    check_lang(lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = MapContext(region, plan, legs)
    written: list[Path] = []

    region_path = out_dir / "region.html"
    build_region_map(ctx, lang).save(str(region_path))
    written.append(region_path)

    day_files: dict[str, list[tuple[Route, Path]]] = defaultdict(list)
    made_dirs: set[Path] = set()
    for (rep_id, day), route in sorted(ctx.routes.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        path = day_map_path(out_dir, rep_id, route)
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        build_day_map(ctx, rep_id, day, lang).save(str(path))
        written.append(path)
        day_files[rep_id].append((route, path))

    index = out_dir / "index.html"
    index.write_text(_index_html(ctx, out_dir, lang, day_files), encoding="utf-8")
    written.append(index)
    return written
