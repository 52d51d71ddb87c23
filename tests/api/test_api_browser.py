"""The rep's day page and the region map in headless Chromium (Debian's chromium driven by
Playwright): the markers and the stop list are drawn, a visit is recorded through the page's
form, and tablet-size screenshots (1280x800) are saved.

Nothing is fetched from the internet: every request that does not go to the test server is
aborted (map tiles then stay blank); Leaflet itself is served by the planner (bundled).
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from tests.api.conftest import a_route

from planner.api.pages import local_assets_present

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install chromium; .ci/run does)"),
    pytest.mark.skipif(not local_assets_present(), reason="Leaflet is not fetched (scripts/fetch_leaflet.sh, "
                       "run by `make test`): offline, map pages cannot load it from the CDN"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _context(browser, api, key: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800},
                              extra_http_headers={"Authorization": f"Bearer {key}"})
    local = urlparse(api.url).netloc

    def only_local(route):
        u = urlparse(route.request.url)
        if u.scheme in ("http", "https") and u.netloc != local:
            return route.abort()
        return route.continue_()

    ctx.route("**/*", only_local)
    return ctx


def test_day_page_draws_markers_and_stops_and_records_a_visit(browser, api, planned, tmp_path_factory):
    route = a_route(planned["plan"], "R01")
    ctx = _context(browser, api, api.keys["rep_a"])
    page = ctx.new_page()
    try:
        r = page.goto(f"{api.url}/plans/{planned['plan_id']}/reps/R01/days/{route['date']}?lang=en")
        assert r.status == 200
        frame = page.frame_locator("#day-map")
        n = len(route["stops"])
        stops = frame.locator(".leaflet-marker-icon.fvp-stop-icon")
        stops.nth(n - 1).wait_for(state="attached", timeout=15000)
        assert stops.count() == n
        assert frame.locator(".leaflet-marker-icon.fvp-home-icon").count() >= 1
        assert frame.locator("path.leaflet-interactive").count() >= 1  # the route line
        items = page.locator("#stops li.stop")
        assert items.count() == n
        assert [items.nth(i).get_attribute("data-customer") for i in range(n)] == [s["customer_id"] for s in route["stops"]]
        shots = tmp_path_factory.mktemp("screenshots")
        page.screenshot(path=str(shots / "day-page.png"))
        print(f"screenshots in {shots}")
        assert (shots / "day-page.png").stat().st_size > 10000
        # record the first stop's visit through the form
        first = items.nth(0)
        first.locator("summary").click()
        first.locator("select[name=outcome]").select_option("rescheduled")
        first.locator("textarea[name=notes]").fill("老板不在 — come back Thursday")
        first.locator("input[name=next_action]").fill("call before")
        first.locator("button[type=submit]").click()
        status = first.locator(".status.ok")
        status.wait_for(timeout=10000)
        assert "Saved" in status.inner_text()
        rec = api.crm.get("/visits", params={"customer_id": route["stops"][0]["customer_id"],
                                             "outcome": "rescheduled"}).json()["items"]
        assert rec and rec[0]["notes"] == "老板不在 — come back Thursday" and rec[0]["rep_id"] == "R01"
        assert rec[0]["visited_at"].startswith(route["date"])
    finally:
        ctx.close()


def test_region_map_draws_every_customer(browser, api, planned, tmp_path_factory):
    ctx = _context(browser, api, api.keys["manager"])
    page = ctx.new_page()
    try:
        r = page.goto(f"{api.url}/plans/{planned['plan_id']}/map?lang=en")
        assert r.status == 200
        page.locator(".leaflet-marker-icon").first.wait_for(state="attached", timeout=15000)
        # customers are circle markers drawn on a canvas (prefer_canvas), reps' homes div markers
        n_customers = api.manager.get("/customers", params={"limit": 1}).json()["total"]
        assert page.locator("canvas.leaflet-zoom-animated").count() >= 1
        drawn = page.evaluate("""() => {
            let n = 0;
            for (const k of Object.keys(window)) {
                const m = window[k];
                if (m instanceof L.Map) m.eachLayer(l => { if (l instanceof L.CircleMarker && l._map) n++; });
            }
            return n; }""")
        assert drawn >= n_customers
        assert page.locator(".leaflet-marker-icon").count() >= len(planned["reps"])
        shots = tmp_path_factory.mktemp("screenshots")
        page.screenshot(path=str(shots / "region-map.png"))
        print(f"screenshots in {shots}")
        assert (shots / "region-map.png").stat().st_size > 10000
    finally:
        ctx.close()


def test_the_key_prompt_opens_the_day_page_in_a_plain_browser(browser, api, planned):
    route = a_route(planned["plan"], "R01")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    try:
        url = f"{api.url}/plans/{planned['plan_id']}/reps/R01/days/{route['date']}"
        assert page.goto(url).status == 401
        page.fill("#key", api.keys["rep_a"])
        with page.expect_navigation():
            page.click("button")
        assert page.locator("#stops li.stop").count() == len(route["stops"])
    finally:
        ctx.close()
