import json

from planner.export import export_plan


def load(plan, region, tmp_path):
    out = tmp_path / "plan.geojson"
    assert export_plan(plan, region, "geojson", out) == [out]
    return json.loads(out.read_text(encoding="utf-8"))


def test_feature_counts(plan, region, tmp_path):
    fc = load(plan, region, tmp_path)
    assert fc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("home") == 2 and kinds.count("stop") == 3 and kinds.count("route") == 2
    assert len(kinds) == 7


def test_stop_points_are_lon_lat(plan, region, tmp_path):
    fc = load(plan, region, tmp_path)
    stops = [f for f in fc["features"] if f["properties"]["kind"] == "stop"]
    first = stops[0]
    assert first["geometry"] == {"type": "Point", "coordinates": [121.4737, 31.2304]}
    p = first["properties"]
    assert (p["rep_id"], p["date"], p["seq"], p["customer_id"], p["grade"]) == (
        "R1", "2026-11-30", 1, "C1", "A")
    assert p["name"] == '上海<华东>&"超市"' and p["arrival"] == "2026-11-30T09:05:00"
    assert [s["properties"]["seq"] for s in stops] == [1, 2, 1]


def test_route_lines(plan, region, tmp_path):
    fc = load(plan, region, tmp_path)
    lines = {f["properties"]["rep_id"]: f for f in fc["features"] if f["properties"]["kind"] == "route"}
    r1 = lines["R1"]["geometry"]
    assert r1["type"] == "LineString"
    # home -> C1 -> C2 -> home (R1 ends where it starts)
    assert r1["coordinates"] == [[121.4, 31.25], [121.4737, 31.2304], [121.55, 31.3], [121.4, 31.25]]
    r2 = lines["R2"]
    assert r2["geometry"]["coordinates"][-1] == [121.66, 31.16]  # R2's own end location
    assert r2["properties"]["distance_km"] == 30.0 and r2["properties"]["date"] == "2026-12-01"
