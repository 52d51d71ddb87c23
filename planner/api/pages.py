"""HTML pages of the API: the rep's day page for a tablet, the key prompt, and the folium maps
(rendered once per plan and kept in the ``map_cache`` table).

Every piece of user text goes through :func:`maps.esc` (HTML-escaped, and safe in folium's
Jinja and JavaScript strings); values for the page's script go through :func:`maps.common.js_str`.
The folium maps load Leaflet from the server itself (``/static/leaflet``, bundled) unless
``PLANNER_MAP_ASSETS=cdn``: a tablet in the field, or a test machine without internet, still
draws the markers and routes; only the background tiles need the internet.
"""
from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from urllib.parse import quote

import folium
from sqlalchemy import select
from sqlalchemy.orm import Session

from maps import esc
from maps.common import MapContext, VIEWPORT_META, grade_colour, js_str
from maps.day_map import build_day_map
from maps.i18n import t, weekday_name
from maps.region_map import build_region_map
from planner.db.models import MapCacheRow, VisitRow
from planner.domain import Plan, Region, format_windows
from planner.geo.geometry import map_travel, route_legs, travel_tag
from planner.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
LEAFLET_VERSION = "1.9.3"

PAGE_LABELS = {
    "zh": {"title": "今日拜访", "call": "拨打电话", "navigate": "导航", "amap": "高德地图", "record": "拜访记录",
           "outcome": "结果", "done": "已拜访", "absent": "客户不在", "rescheduled": "改期", "notes": "备注",
           "next_action": "下一步行动", "time": "拜访时间", "save": "保存记录", "saved": "已保存",
           "failed": "保存失败", "recorded": "已记录", "no_phone": "无电话", "stops": "拜访顺序",
           "region_map": "区域地图", "stop_count": "站", "address": "地址"},
    "en": {"title": "Today's visits", "call": "Call", "navigate": "Navigate", "amap": "Amap", "record": "Visit record",
           "outcome": "Outcome", "done": "Done", "absent": "Customer absent", "rescheduled": "Rescheduled",
           "notes": "Notes", "next_action": "Next action", "time": "Visit time", "save": "Save record",
           "saved": "Saved", "failed": "Not saved", "recorded": "Recorded", "no_phone": "no phone",
           "stops": "Stops in order", "region_map": "Region map", "stop_count": "stops", "address": "Address"},
}


def L(key: str, lang: str) -> str:
    return PAGE_LABELS.get(lang, PAGE_LABELS["en"]).get(key, key)


def use_local_assets(m: folium.Map, root_path: str = "") -> None:
    """Make a folium map load only Leaflet, from this server (no jQuery/Bootstrap/CDN)."""
    base = f"{root_path}/static/leaflet"
    m.default_js = [("leaflet", f"{base}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{base}/leaflet.css")]


def local_assets_present() -> bool:
    """True if Leaflet was fetched into the package (``scripts/fetch_leaflet.sh``)."""
    return (STATIC_DIR / "leaflet" / "leaflet.js").is_file()


def _render(m: folium.Map, assets: str, root_path: str) -> str:
    if assets != "cdn" and local_assets_present():
        use_local_assets(m, root_path)
    return m.get_root().render()


def cached_map(session: Session, plan_id: str, key: str, build, keep=None) -> str:
    """The map ``key`` of a plan from the cache, or built by ``build()`` and cached (unless
    ``keep()``, asked after the build, says no: e.g. a leg drawn straight while a router was down)."""
    row = session.get(MapCacheRow, (plan_id, key))
    if row is not None:
        return row.html
    text = build()
    if keep is not None and not keep():
        return text
    try:
        session.add(MapCacheRow(plan_id=plan_id, key=key, html=text, created_at=dt.datetime.now().replace(microsecond=0)))
        session.commit()
    except Exception:  # another request cached it first, or the plan went meanwhile
        session.rollback()
    return text


def region_map_html(session: Session, region: Region, plan: Plan, lang: str, assets: str, root_path: str) -> str:
    return cached_map(session, plan.plan_id, f"region:{lang}:{assets}:{root_path}",
                      lambda: _render(build_region_map(MapContext(region, plan), lang), assets, root_path))


def day_map_html(session: Session, region: Region, plan: Plan, rep_id: str, day: dt.date, lang: str,
                 assets: str, root_path: str, settings: Settings | None = None) -> str:
    """The folium day map of a rep (cached). With ``settings`` whose ``PLANNER_TRAVEL`` is a road
    provider, each leg follows the roads (:func:`planner.geo.geometry.route_legs`); the cache key
    then carries the travel setting, and a map with a leg drawn straight because the provider
    failed is not cached (the next request tries the roads again)."""
    tag = travel_tag(settings) if settings is not None else ""
    key = f"day:{rep_id}:{day.isoformat()}:{lang}:{assets}:{root_path}" + (f":{tag}" if tag else "")
    straight: list[bool] = []

    def build() -> str:
        legs = None
        if tag:
            travel = map_travel(settings)
            if travel is None:
                straight.append(True)
            else:
                legs = route_legs(plan, region, travel, routes=[(rep_id, day)])
                straight.append(legs.failed > 0)
        return _render(build_day_map(MapContext(region, plan, legs), rep_id, day, lang), assets, root_path)

    return cached_map(session, plan.plan_id, key, build, keep=lambda: not any(straight))


_PAGE_CSS = """
*{box-sizing:border-box}
body{margin:0;font:17px/1.45 -apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;color:#222;background:#f4f5f7}
header{padding:10px 16px;background:#124;color:#fff}
header h1{margin:0;font-size:21px}
header .sub{font-size:15px;opacity:.85}
.wrap{display:flex;gap:12px;padding:12px}
.mapbox{flex:1 1 55%;min-height:420px}
.mapbox iframe{width:100%;height:calc(100vh - 110px);min-height:420px;border:1px solid #bbb;border-radius:8px;background:#fff}
.listbox{flex:1 1 45%;max-height:calc(100vh - 110px);overflow-y:auto}
@media (max-width:900px){.wrap{flex-direction:column}.listbox{max-height:none}.mapbox iframe{height:55vh}}
ol.stops{list-style:none;margin:0;padding:0}
li.stop{background:#fff;border:1px solid #ccc;border-radius:8px;margin:0 0 10px;padding:10px 12px}
li.stop .head{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
li.stop .n{display:inline-block;width:32px;height:32px;border-radius:50%;color:#fff;font-weight:bold;
 text-align:center;line-height:32px;flex:none}
li.stop .tm{font-weight:bold;white-space:nowrap}
li.stop .nm{font-weight:bold}
li.stop .addr{color:#555;font-size:15px;margin:4px 0}
li.stop .links a{display:inline-block;margin:4px 8px 4px 0;padding:8px 12px;border-radius:6px;background:#e8eef8;
 color:#124;text-decoration:none;font-size:16px}
li.stop details{margin-top:6px}
li.stop summary{cursor:pointer;font-size:16px;padding:6px 0}
form.visit label{display:block;margin:6px 0 2px;font-size:15px}
form.visit select,form.visit input,form.visit textarea{width:100%;font-size:16px;padding:8px;border:1px solid #aaa;border-radius:6px}
form.visit button{margin-top:8px;padding:10px 18px;font-size:17px;border:0;border-radius:6px;background:#1a7f37;color:#fff}
.status{margin-top:6px;font-weight:bold}
.status.ok{color:#1a7f37}.status.err{color:#b00020}
.badge:empty{display:none}
.badge{font-size:13px;padding:2px 8px;border-radius:10px;background:#ddd}
.badge.done{background:#c8f0d0}.badge.absent,.badge.rescheduled{background:#ffe0b2}
.lunch{color:#666;font-style:italic;margin:0 0 10px 6px}
"""

_PAGE_JS = """
(function(){
  var forms = document.querySelectorAll('form.visit');
  forms.forEach(function(f){
    f.addEventListener('submit', function(ev){
      ev.preventDefault();
      var d = new FormData(f), st = f.querySelector('.status'), at = d.get('visited_at');
      var body = {customer_id: f.getAttribute('data-customer'), rep_id: CFG.rep_id, plan_id: CFG.plan_id,
                  outcome: d.get('outcome'), notes: d.get('notes') || null,
                  next_action: d.get('next_action') || null,
                  visited_at: at ? (at.length === 16 ? at + ':00' : at) : null};
      st.className = 'status'; st.textContent = '…';
      fetch(CFG.visits_url, {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-Planner-CSRF': '1'}, body: JSON.stringify(body)})
      .then(function(r){ return r.json().then(function(j){ return [r, j]; }, function(){ return [r, null]; }); })
      .then(function(x){
        var r = x[0], j = x[1];
        if (r.ok) { st.className = 'status ok'; st.textContent = CFG.saved + ' #' + j.id;
                    var b = f.closest('li').querySelector('.badge'); if (b) { b.textContent = CFG.labels[j.outcome]; b.className = 'badge ' + j.outcome; } }
        else { st.className = 'status err'; st.textContent = CFG.failed + ' (' + r.status + ') ' + (j && j.detail ? JSON.stringify(j.detail) : ''); }
      }).catch(function(e){ st.className = 'status err'; st.textContent = CFG.failed + ': ' + e; });
    });
  });
})();
"""


def day_page_html(session: Session, region: Region, plan: Plan, rep_id: str, day: dt.date, lang: str,
                  map_html: str, root_path: str = "") -> str:
    """The rep's day: the map, the stops in order with times, call and navigation links, and a
    visit-record form per stop (posting to ``/visits``)."""
    ctx = MapContext(region, plan)
    route = ctx.route(rep_id, day)
    recorded: dict[str, str] = {}
    q = select(VisitRow.customer_id, VisitRow.outcome).where(
        VisitRow.rep_id == rep_id, VisitRow.visited_at >= dt.datetime.combine(day, dt.time()),
        VisitRow.visited_at < dt.datetime.combine(day + dt.timedelta(days=1), dt.time())).order_by(VisitRow.visited_at, VisitRow.id)
    for cid, outcome in session.execute(q):
        recorded[cid] = outcome
    items = []
    lunch_done = route.lunch_start is None
    for i, s in enumerate(route.stops, 1):
        if not lunch_done and route.lunch_start <= s.start:
            items.append(f"<li class='lunch'>{route.lunch_start:%H:%M} {esc(t('lunch', lang))}</li>")
            lunch_done = True
        c = ctx.customers.get(s.customer_id)
        name = c.name if c is not None else s.customer_id
        links = []
        if c is not None:
            lat, lon = c.location.lat, c.location.lon
            if c.phone:
                links.append(f"<a class='call' href='tel:{esc(quote(c.phone, safe='+'))}'>&#128222; {esc(L('call', lang))} "
                             f"{esc(c.phone)}</a>")
            links.append(f"<a class='nav' href='geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({esc(quote(name))})'>"
                         f"&#129517; {esc(L('navigate', lang))}</a>")
            links.append(f"<a class='nav-amap' target='_blank' rel='noopener' href='https://uri.amap.com/marker?"
                         f"position={lon:.6f},{lat:.6f}&amp;name={esc(quote(name))}&amp;coordinate=wgs84&amp;callnative=1'>"
                         f"{esc(L('amap', lang))}</a>")
        state = recorded.get(s.customer_id)
        badge = (f"<span class='badge {esc(state)}'>{esc(L(state, lang))}</span>" if state
                 else "<span class='badge'></span>")
        colour = grade_colour(c) if c is not None else "#555"
        options = "".join(f"<option value='{o}'>{esc(L(o, lang))}</option>" for o in ("done", "absent", "rescheduled"))
        opening = format_windows(c.opening) if c is not None else ""
        items.append(
            f"<li class='stop' id='stop-{i}' data-customer='{esc(s.customer_id)}'>"
            f"<div class='head'><span class='n' style='background:{colour}'>{i}</span>"
            f"<span class='tm'>{s.start:%H:%M}&ndash;{s.end:%H:%M}</span>"
            f"<span class='nm'>{esc(name)}</span>"
            f"<span class='grade'>{esc(c.grade if c else '')}</span>{badge}</div>"
            + (f"<div class='addr'>{esc(c.address)}</div>" if c is not None and c.address else "")
            + (f"<div class='addr'>{esc(t('opening_hours', lang))}: {esc(opening)}</div>" if opening else "")
            + f"<div class='links'>{''.join(links)}</div>"
            f"<details><summary>{esc(L('record', lang))}</summary>"
            f"<form class='visit' data-customer='{esc(s.customer_id)}'>"
            f"<label>{esc(L('outcome', lang))}<select name='outcome'>{options}</select></label>"
            f"<label>{esc(L('time', lang))}<input type='datetime-local' name='visited_at' "
            f"value='{s.start:%Y-%m-%dT%H:%M}'></label>"
            f"<label>{esc(L('notes', lang))}<textarea name='notes' rows='2' maxlength='4000'></textarea></label>"
            f"<label>{esc(L('next_action', lang))}<input name='next_action' maxlength='1000'></label>"
            f"<button type='submit'>{esc(L('save', lang))}</button><div class='status' role='status'></div>"
            f"</form></details></li>")
    if not lunch_done:
        items.append(f"<li class='lunch'>{route.lunch_start:%H:%M} {esc(t('lunch', lang))}</li>")
    cfg = ("{" + f"rep_id: {js_str(rep_id)}, plan_id: {js_str(plan.plan_id)}, "
           f"visits_url: {js_str(root_path + '/visits')}, saved: {js_str(L('saved', lang))}, "
           f"failed: {js_str(L('failed', lang))}, labels: {{done: {js_str(L('done', lang))}, "
           f"absent: {js_str(L('absent', lang))}, rescheduled: {js_str(L('rescheduled', lang))}}}" + "}")
    title = f"{L('title', lang)} · {ctx.rep_label(rep_id, lang)} · {day.isoformat()} {weekday_name(day, lang)}"
    return (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
        f"{VIEWPORT_META}<title>{esc(title)}</title><style>{_PAGE_CSS}</style></head><body>"
        f"<header><h1>{esc(ctx.rep_label(rep_id, lang))} &middot; {day.isoformat()} {esc(weekday_name(day, lang))}</h1>"
        f"<div class='sub'>{len(route.stops)} {esc(L('stop_count', lang))} &middot; {route.depart:%H:%M}&ndash;"
        f"{route.back:%H:%M} &middot; {route.distance_km:.1f} {esc(t('km', lang))} &middot; plan {esc(plan.plan_id)}</div>"
        f"</header><div class='wrap'><div class='mapbox'>"
        f"<iframe id='day-map' title='map' srcdoc=\"{html.escape(map_html, quote=True)}\"></iframe></div>"
        f"<div class='listbox'><h2 style='font-size:18px;margin:4px 0 8px'>{esc(L('stops', lang))}</h2>"
        f"<ol class='stops' id='stops'>{''.join(items)}</ol></div></div>"
        f"<script>var CFG = {cfg};{_PAGE_JS}</script></body></html>")


def login_page_html(detail: str) -> str:
    """The 401 page a browser sees without a key: asks for the key, then sets the cookie."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>" + VIEWPORT_META +
        "<title>API key required</title><style>body{font:18px/1.5 sans-serif;margin:40px auto;max-width:520px;"
        "padding:0 16px}input,button{font-size:18px;padding:10px;width:100%;margin-top:8px}</style></head><body>"
        f"<h1 style='font-size:22px'>API key required · 需要 API 密钥</h1><p>{esc(detail)}</p>"
        "<form id='k'><input id='key' type='password' autocomplete='off' placeholder='fvp_…' required>"
        "<button>Open · 打开</button></form><p id='msg' style='color:#b00020'></p><script>"
        "document.getElementById('k').addEventListener('submit',function(e){e.preventDefault();"
        "fetch('/auth/session',{method:'POST',credentials:'same-origin',headers:{'Authorization':'Bearer '+"
        "document.getElementById('key').value.trim()}}).then(function(r){if(r.ok){location.reload();}"
        "else{document.getElementById('msg').textContent='Key refused ('+r.status+')';}});});"
        "</script></body></html>")
