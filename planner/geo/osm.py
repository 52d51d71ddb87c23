"""Road travel times from an OpenStreetMap extract (``.osm.pbf``).

    from planner.geo.osm import OsmTravel
    travel = OsmTravel("helsinki.osm.pbf", cache_dir=".planner-travel-cache")
    mats = travel.get_matrix(locations)          # road km and seconds, all pairs

How it works:

* **Network.** The drivable ways of the extract (pyrosm's ``driving`` network: public roads a
  car may use, ``access``/``motor_vehicle`` = no/private excluded) as a directed graph on OSM
  nodes. A way is traversable both ways unless ``oneway=yes|true|1`` (forward only),
  ``oneway=-1|reverse`` (backward only), ``junction=roundabout|circular`` or ``highway=motorway``
  (implied one-way); ``oneway=reversible|alternating`` ways are left out (their direction
  changes with the hour), as OSRM's car profile does.
* **Speeds.** A way's speed is :data:`MAXSPEED_FACTOR` (0.8: junctions, lights, traffic)
  times its posted ``maxspeed`` (``50``, ``30 mph``, zone values such as ``FI:urban``), else the
  typical driving speed of its ``highway`` class from :data:`DEFAULT_SPEEDS_KMH` (OSRM's car
  profile speeds). Segment lengths are great-circle lengths between consecutive OSM nodes.
* **Snapping.** Each location goes to the nearest network node (a KD-tree on 3-D unit-sphere
  coordinates) of the largest strongly connected component, so every pair has a route. A
  location farther than ``snap_limit_km`` (1 km) from it raises :class:`SnapError` naming
  every such location. The snap legs (location → node and node → location) are added as
  great-circle km at ``snap_speed_kmh`` (10 km/h: finding the entrance, parking).
* **Matrices.** :func:`scipy.sparse.csgraph.dijkstra` from each distinct snapped node (in
  chunks), keeping only the columns of the needed targets. Each edge weight packs its time
  and its length into one exact integer-valued float (time units in the high bits, length
  units in the low bits), so a single search gives the fastest path and, among equally fast
  paths, the shortest, with the exact km of that path.
* **Cache.** The built graph is stored as an ``.npz`` under ``cache_dir``, keyed by the
  extract's absolute path, modification time and size and by the speed settings: the next
  ``OsmTravel`` on the same file loads it in milliseconds instead of parsing the extract.

This module (with :mod:`planner.geo.http_matrix`) is the only place that knows about OSM
readers and graph libraries; the pipeline sees the :class:`~planner.geo.travel.TravelMatrix`
protocol only.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from planner.domain import Location
from planner.geo.errors import SnapError
from planner.geo.travel import EARTH_RADIUS_KM, Matrices

__all__ = ["OsmTravel", "SnapError", "WayTable", "RoadGraph", "build_graph", "read_ways", "parse_maxspeed",
           "way_speed_kmh", "DEFAULT_SPEEDS_KMH"]

#: Typical driving speeds (km/h) by ``highway`` class when a way has no usable ``maxspeed``
#: (the speeds of OSRM's car profile). Classes not listed use :data:`FALLBACK_SPEED_KMH`.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType({
    "motorway": 90.0, "motorway_link": 45.0,
    "trunk": 85.0, "trunk_link": 40.0,
    "primary": 65.0, "primary_link": 30.0,
    "secondary": 55.0, "secondary_link": 25.0,
    "tertiary": 40.0, "tertiary_link": 20.0,
    "unclassified": 25.0, "residential": 25.0, "road": 25.0,
    "living_street": 10.0, "service": 15.0, "track": 5.0,
})
FALLBACK_SPEED_KMH = 25.0
#: Share of a posted speed limit driven on average (junctions, lights, traffic).
MAXSPEED_FACTOR = 0.8
#: ``maxspeed`` zone values (``FI:urban``, ``DE:rural`` ...) by their part after the colon.
ZONE_SPEEDS_KMH: Mapping[str, float] = MappingProxyType({
    "urban": 50.0, "rural": 80.0, "motorway": 120.0, "trunk": 100.0, "living_street": 20.0,
    "zone20": 20.0, "zone30": 30.0, "bicycle_road": 30.0, "walk": 7.0,
})
CACHE_FORMAT = 1
DEFAULT_CACHE_DIR = Path(".planner-travel-cache")
_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}
_CLOSED = {"reversible", "alternating"}


@dataclass(frozen=True)
class WayTable:
    """Drivable OSM way segments, one row per pair of consecutive nodes in way order.

    ``u``/``v`` are OSM node ids; ``highway``, ``oneway``, ``maxspeed`` and ``junction`` are the
    ways' raw tag values ('' when absent). ``node_id``/``lat``/``lon`` give the nodes' positions.
    """

    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    u: np.ndarray
    v: np.ndarray
    highway: Sequence[str]
    oneway: Sequence[str]
    maxspeed: Sequence[str]
    junction: Sequence[str]


@dataclass(frozen=True)
class RoadGraph:
    """A directed road graph in CSR form (largest strongly connected component only).

    ``time_s``/``length_m`` are per edge (aligned with ``indices``); ``time_unit_s`` and
    ``length_unit_m`` are the units of the exact packed weights (see :meth:`packed`).
    """

    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    time_unit_s: float
    length_unit_m: float

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.indices)

    def _units(self) -> tuple[np.ndarray, np.ndarray, int]:
        t = np.maximum(1, np.rint(self.time_s / self.time_unit_s)).astype(np.int64)
        ln = np.rint(self.length_m / self.length_unit_m).astype(np.int64)
        shift = int(ln.sum()).bit_length()
        return t, ln, shift

    def packed(self):
        """The CSR matrix of packed weights ``time_units * 2**shift + length_units`` and ``shift``.

        ``shift`` is the bit length of the summed length units of all edges, so every simple
        path's length fits below ``2**shift``; the units are chosen (:func:`_choose_units`) so
        that every packed path sum stays below 2**52, exact in float64: a path's time is
        ``sum // 2**shift`` units and its length ``sum % 2**shift`` units.
        """
        from scipy.sparse import csr_matrix
        t, ln, shift = self._units()
        w = (t * (1 << shift) + ln).astype(np.float64)
        n = self.n_nodes
        return csr_matrix((w, self.indices, self.indptr), shape=(n, n)), shift


def parse_maxspeed(value: str) -> float | None:
    """A ``maxspeed`` tag in km/h: ``"50"``, ``"30 mph"``, ``"10 knots"``, ``"FI:urban"``;
    ``None`` for ``none``, ``signals``, ``variable`` and anything unreadable."""
    s = (value or "").strip().lower()
    if not s:
        return None
    s = s.split(";")[0].strip()
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?", s)
    if m:
        x = float(m.group(1).replace(",", "."))
        unit = m.group(2)
        x *= 1.609344 if unit == "mph" else 1.852 if unit == "knots" else 1.0
        return x if x > 0 else None
    if ":" in s:
        return ZONE_SPEEDS_KMH.get(s.split(":", 1)[1])
    return ZONE_SPEEDS_KMH.get(s)


def way_speed_kmh(highway: str, maxspeed: str, speeds: Mapping[str, float], maxspeed_factor: float) -> float:
    """Driving speed of one way: ``maxspeed_factor`` × posted limit, else its class speed."""
    posted = parse_maxspeed(maxspeed)
    if posted is not None:
        return posted * maxspeed_factor
    return float(speeds.get((highway or "").strip(), FALLBACK_SPEED_KMH))


def _arc_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Element-wise great-circle km (haversine), same formula and radius as the travel model."""
    la1, lo1, la2, lo2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _xyz(lat, lon) -> np.ndarray:
    """Points on a sphere of radius EARTH_RADIUS_KM (km), for KD-tree nearest-node queries."""
    la, lo = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return EARTH_RADIUS_KM * np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def _choose_units(time_s: np.ndarray, length_m: np.ndarray) -> tuple[float, float]:
    """The finest (time, length) units whose packed path sums stay below 2**52."""
    for tu in (0.01, 0.1, 1.0, 10.0):
        for lu in (0.01, 0.1, 1.0, 10.0):
            t = np.maximum(1, np.rint(time_s / tu)).astype(np.int64)
            ln = np.rint(length_m / lu).astype(np.int64)
            if int(t.sum()).bit_length() + int(ln.sum()).bit_length() <= 52:
                return tu, lu
    raise ValueError("road network too large to pack times and lengths exactly")


def build_graph(ways: WayTable, *, speeds: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
                maxspeed_factor: float = MAXSPEED_FACTOR) -> RoadGraph:
    """The directed graph of ``ways`` (directions and speeds as in the module doc), reduced to
    its largest strongly connected component; parallel edges keep the fastest."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pos = {int(k): i for i, k in enumerate(np.asarray(ways.node_id, dtype=np.int64))}
    lat = np.asarray(ways.lat, dtype=float)
    lon = np.asarray(ways.lon, dtype=float)
    n_rows = len(ways.u)
    a = np.fromiter((pos.get(int(x), -1) for x in ways.u), np.int64, n_rows)
    b = np.fromiter((pos.get(int(x), -1) for x in ways.v), np.int64, n_rows)
    if (a < 0).any() or (b < 0).any():
        raise ValueError(f"{int((a < 0).sum() + (b < 0).sum())} way segment ends have no node position")
    km = _arc_km(lat[a], lon[a], lat[b], lon[b])

    def text(values) -> np.ndarray:
        return np.array([str(x or "").strip().lower() for x in values], dtype=object)

    hw, one, junction = text(ways.highway), text(ways.oneway), text(ways.junction)
    speed_of: dict[tuple[str, str], float] = {}
    for key in set(zip(hw, (str(x or "") for x in ways.maxspeed))):
        speed_of[key] = way_speed_kmh(key[0], key[1], speeds, maxspeed_factor)
    speed = np.fromiter((speed_of[k] for k in zip(hw, (str(x or "") for x in ways.maxspeed))), float, n_rows)
    sec = km / speed * 3600.0
    back_only = np.isin(one, list(_BACKWARD))
    implied = np.isin(junction, ["roundabout", "circular"]) | (hw == "motorway")
    one_way = np.isin(one, list(_FORWARD)) | (implied & (one != "no")) | back_only
    ok = (a != b) & ~np.isin(one, list(_CLOSED))
    fwd = ok & ~back_only               # along the way's node order
    bwd = ok & (back_only | ~one_way)   # against it
    if not (fwd.any() or bwd.any()):
        raise ValueError("the extract has no drivable road")
    u = np.concatenate([a[fwd], b[bwd]])
    v = np.concatenate([b[fwd], a[bwd]])
    t = np.concatenate([sec[fwd], sec[bwd]])
    ln = np.concatenate([km[fwd], km[bwd]]) * 1000.0
    # parallel edges: keep the fastest (then shortest) of each (u, v)
    order = np.lexsort((ln, t, v, u))
    u, v, t, ln = u[order], v[order], t[order], ln[order]
    first = np.ones(len(u), bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, t, ln = u[first], v[first], t[first], ln[first]
    n = len(lat)
    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, label = connected_components(adj, directed=True, connection="strong")
    used = np.zeros(n, bool)
    used[u] = used[v] = True
    sizes = np.bincount(label[used])
    big = int(np.argmax(sizes))
    keep_node = used & (label == big)
    new_index = np.full(n, -1, np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    keep_edge = keep_node[u] & keep_node[v]
    u, v, t, ln = new_index[u[keep_edge]], new_index[v[keep_edge]], t[keep_edge], ln[keep_edge]
    # CSR, rows sorted (u is already sorted after the lexsort and the monotone re-indexing)
    m = int(keep_node.sum())
    indptr = np.zeros(m + 1, np.int64)
    np.add.at(indptr, u + 1, 1)
    indptr = np.cumsum(indptr)
    tu, lu = _choose_units(t, ln)
    return RoadGraph(node_id=np.asarray(ways.node_id, np.int64)[keep_node], lat=lat[keep_node], lon=lon[keep_node],
                     indptr=indptr, indices=v.astype(np.int64), time_s=t, length_m=ln,
                     time_unit_s=tu, length_unit_m=lu)


def read_ways(path: str | Path) -> WayTable:
    """The drivable network of an ``.osm.pbf`` extract, read with pyrosm."""
    import pyrosm

    osm = pyrosm.OSM(str(path))
    got = osm.get_network(network_type="driving", nodes=True)
    if got is None or got[1] is None or len(got[1]) == 0:
        raise ValueError(f"{path}: no drivable road in this extract")
    nodes, edges = got

    def col(name: str) -> list[str]:
        if name not in edges.columns:
            return [""] * len(edges)
        return ["" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x) for x in edges[name]]

    return WayTable(node_id=nodes["id"].to_numpy(np.int64), lat=nodes["lat"].to_numpy(float),
                    lon=nodes["lon"].to_numpy(float), u=edges["u"].to_numpy(np.int64),
                    v=edges["v"].to_numpy(np.int64), highway=col("highway"), oneway=col("oneway"),
                    maxspeed=col("maxspeed"), junction=col("junction"))


def _save(graph: RoadGraph, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, node_id=graph.node_id, lat=graph.lat, lon=graph.lon, indptr=graph.indptr,
             indices=graph.indices, time_s=graph.time_s, length_m=graph.length_m,
             units=np.array([graph.time_unit_s, graph.length_unit_m]))
    os.replace(tmp, file)


def _load(file: Path) -> RoadGraph:
    with np.load(file) as z:
        tu, lu = (float(x) for x in z["units"])
        return RoadGraph(node_id=z["node_id"], lat=z["lat"], lon=z["lon"], indptr=z["indptr"],
                         indices=z["indices"], time_s=z["time_s"], length_m=z["length_m"],
                         time_unit_s=tu, length_unit_m=lu)


class OsmTravel:
    """Travel distances and times on the road network of an OSM extract (see the module doc).

    ``path``: an ``.osm.pbf`` file. ``cache_dir``: where built graphs are kept (``None``: no
    cache). ``speeds``: km/h by ``highway`` class (defaults :data:`DEFAULT_SPEEDS_KMH`).
    ``snap_limit_km``: the farthest a location may be from the network. ``snap_speed_kmh``:
    the speed of the snap legs. ``chunk``: sources per Dijkstra call (memory: chunk × nodes).
    """

    def __init__(self, path: str | Path, *, cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
                 speeds: Mapping[str, float] | None = None, maxspeed_factor: float = MAXSPEED_FACTOR,
                 snap_limit_km: float = 1.0, snap_speed_kmh: float = 10.0, chunk: int = 64):
        self.path = Path(path).expanduser().resolve()
        if not self.path.is_file():
            raise FileNotFoundError(f"OSM extract not found: {self.path}")
        if not 0 < maxspeed_factor <= 1.5:
            raise ValueError("maxspeed_factor must be in (0, 1.5]")
        self.speeds: dict[str, float] = dict(DEFAULT_SPEEDS_KMH if speeds is None else speeds)  # a copy
        self.maxspeed_factor = float(maxspeed_factor)
        self._configure(self.path.name, snap_limit_km, snap_speed_kmh, chunk)
        if cache_dir is not None:
            stem = self.path.name.split(".")[0]
            self.cache_file = Path(cache_dir).expanduser() / f"{stem}-{self.cache_key()[:20]}.npz"
        if self.cache_file is not None and self.cache_file.is_file():
            try:
                self.graph = _load(self.cache_file)
                self.from_cache = True
            except (OSError, KeyError, ValueError):  # a damaged cache file is rebuilt
                self.graph = self._build()
        else:
            self.graph = self._build()

    def _configure(self, name: str, snap_limit_km: float, snap_speed_kmh: float, chunk: int) -> None:
        if snap_limit_km <= 0 or snap_speed_kmh <= 0 or chunk < 1:
            raise ValueError("snap_limit_km, snap_speed_kmh and chunk must be positive")
        self.name = name
        self.snap_limit_km = float(snap_limit_km)
        self.snap_speed_kmh = float(snap_speed_kmh)
        self.chunk = int(chunk)
        self.cache_file: Path | None = None
        self.from_cache = False
        self._tree = None
        self._packed = None
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # nodes, seconds, metres

    @classmethod
    def from_graph(cls, graph: RoadGraph, *, name: str = "road graph", snap_limit_km: float = 1.0,
                   snap_speed_kmh: float = 10.0, chunk: int = 64) -> "OsmTravel":
        """A provider on an already built graph (e.g. :func:`build_graph` of a hand-made
        :class:`WayTable`); no file and no cache."""
        self = cls.__new__(cls)
        self.path = None
        self.speeds = {}
        self.maxspeed_factor = MAXSPEED_FACTOR
        self._configure(name, snap_limit_km, snap_speed_kmh, chunk)
        self.graph = graph
        return self

    def __getstate__(self) -> dict:
        """Pickled (e.g. for a worker process) without the KD-tree and matrix caches."""
        state = dict(self.__dict__)
        state.update(_tree=None, _packed=None, _last=None)
        return state

    def cache_key(self) -> str:
        """SHA-256 of the extract's identity (absolute path, mtime, size) and the speed settings."""
        st = self.path.stat()
        ident = {"format": CACHE_FORMAT, "path": str(self.path), "mtime_ns": st.st_mtime_ns, "size": st.st_size,
                 "speeds": sorted(self.speeds.items()), "maxspeed_factor": self.maxspeed_factor,
                 "network": "driving"}
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    def _build(self) -> RoadGraph:
        graph = build_graph(read_ways(self.path), speeds=self.speeds, maxspeed_factor=self.maxspeed_factor)
        if self.cache_file is not None:
            _save(graph, self.cache_file)
        return graph

    def snap(self, locations: Sequence[Location]) -> tuple[np.ndarray, np.ndarray]:
        """Nearest graph node of each location and its great-circle distance (km).

        Raises :class:`SnapError` naming every location farther than ``snap_limit_km``.
        """
        from scipy.spatial import cKDTree
        if self._tree is None:
            self._tree = cKDTree(_xyz(self.graph.lat, self.graph.lon))
        lat = np.fromiter((p.lat for p in locations), float, len(locations))
        lon = np.fromiter((p.lon for p in locations), float, len(locations))
        _, node = self._tree.query(_xyz(lat, lon))
        node = np.asarray(node, np.int64)
        km = _arc_km(lat, lon, self.graph.lat[node], self.graph.lon[node])
        far = np.flatnonzero(km > self.snap_limit_km)
        if len(far):
            raise SnapError([(int(i), float(lat[i]), float(lon[i]), float(km[i])) for i in far],
                            self.snap_limit_km, self.name)
        return node, km

    def _weights(self):
        if self._packed is None:
            self._packed = self.graph.packed()
        return self._packed

    def node_matrices(self, sources: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fastest-path (seconds, metres) between graph nodes: rows ``sources``, columns ``targets``."""
        from scipy.sparse.csgraph import dijkstra
        w, shift = self._weights()
        g = self.graph
        secs = np.empty((len(sources), len(targets)))
        metres = np.empty((len(sources), len(targets)))
        scale = float(1 << shift)
        for s0 in range(0, len(sources), self.chunk):
            rows = sources[s0:s0 + self.chunk]
            d = dijkstra(w, directed=True, indices=rows)[:, targets]
            if not np.isfinite(d).all():  # cannot happen inside one strongly connected component
                raise RuntimeError("road graph is not strongly connected")
            t_units = np.floor(d / scale)
            secs[s0:s0 + len(rows)] = t_units * g.time_unit_s
            metres[s0:s0 + len(rows)] = (d - t_units * scale) * g.length_unit_m
        return secs, metres

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Road km and driving seconds between all pairs of ``locations`` (snap legs included).

        Raises :class:`SnapError` if a location is too far from the network.
        """
        n = len(locations)
        if n == 0:
            empty = np.zeros((0, 0))
            return Matrices(empty, empty.copy())
        node, snap_km = self.snap(locations)
        uniq, inv = np.unique(node, return_inverse=True)
        last = self._last
        if last is not None and np.isin(uniq, last[0]).all():  # e.g. the evaluator after the planner
            at = np.searchsorted(last[0], uniq)
            secs, metres = last[1][np.ix_(at, at)], last[2][np.ix_(at, at)]
        else:
            secs, metres = self.node_matrices(uniq, uniq)
            self._last = (uniq, secs, metres)
        snap_s = snap_km / self.snap_speed_kmh * 3600.0
        dur = secs[np.ix_(inv, inv)] + snap_s[:, None] + snap_s[None, :]
        km = metres[np.ix_(inv, inv)] / 1000.0 + snap_km[:, None] + snap_km[None, :]
        np.fill_diagonal(dur, 0.0)
        np.fill_diagonal(km, 0.0)
        return Matrices(km, dur)

    def leg_geometry(self, a: Location, b: Location) -> list[tuple[float, float]]:
        """The road polyline of the fastest leg from ``a`` to ``b`` as (lat, lon) points,
        starting at ``a`` and ending at ``b`` (their snap legs as straight segments)."""
        from scipy.sparse.csgraph import dijkstra
        node, _ = self.snap([a, b])
        w, _ = self._weights()
        _, pred = dijkstra(w, directed=True, indices=int(node[0]), return_predecessors=True)
        path = [int(node[1])]
        while path[-1] != node[0]:
            p = int(pred[path[-1]])
            if p < 0:
                raise RuntimeError("road graph is not strongly connected")
            path.append(p)
        path.reverse()
        g = self.graph
        return [(a.lat, a.lon), *((float(g.lat[i]), float(g.lon[i])) for i in path), (b.lat, b.lon)]
