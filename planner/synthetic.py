"""Seeded generator of realistic demo regions (customers and reps of a Chinese city).

    from planner.synthetic import generate_region, write_region_csv
    region = generate_region(220, 6, seed=2026)            # Hangzhou by default
    write_region_csv(region, "out/")                       # customers.csv + reps.csv

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments always give the
same region, row for row. The layout:

* one district per rep. Small regions use the city's real districts (Hangzhou: 上城区, 拱墅区,
  西湖区, 滨江区, 余杭区, 萧山区, ...) at their approximate real positions; larger ones add
  districts on a jittered hexagonal lattice around them, so the area grows with ``sqrt(n_reps)``
  while each rep's territory keeps the size (and so the driving) of a real district;
* customers are a mixture of Gaussians: each district has its centre and three
  "commercial streets" (hotspots), with an anisotropic spread of a few km;
* a rep lives near the centre of its district; about 5 % of customers are pinned to the rep whose
  home is nearest, so pins are sensible;
* grades about A 12 %, B 28 %, C 35 %, D 25 %; about 3 % inactive; a few frequency and
  visit-length overrides; opening hours: about 55 % empty, 30 % with a lunch closure, 15 % one
  window; every window leaves room for the visit inside 08:30-17:30 plus a drive.

With about 33-40 customers per rep and the default policy, a rep's week is about 55-75 % full
(visits plus driving, see :func:`estimate_weekly_load`).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from planner.domain import (
    DEFAULT_WORKDAYS,
    Customer,
    Frequency,
    Location,
    Region,
    Rep,
    VisitPolicy,
    format_hhmm,
    format_windows,
    format_workdays,
    parse_windows,
)

KM_PER_DEG_LAT = 111.19508  # 6371.0088 km * pi / 180

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "id", "name", "address", "lat", "lon", "grade", "frequency", "visit_minutes", "open",
    "rep_id", "active",
)
REP_COLUMNS: tuple[str, ...] = (
    "id", "name", "start_lat", "start_lon", "end_lat", "end_lon", "work_start", "work_end",
    "workdays", "max_visits_per_day", "cost_per_km", "cost_per_hour",
)


# ----------------------------------------------------------------------------------------------
# Cities
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class District:
    """A real district: name, approximate centre and a few real road names."""

    name: str
    lat: float
    lon: float
    roads: tuple[str, ...]


@dataclass(frozen=True)
class City:
    """A city the generator knows.

    ``spread_km`` is the typical standard deviation of customers around a district centre;
    ``spacing_km`` the distance between neighbouring synthetic districts once the real ones are
    used up (so the region's extent grows with ``sqrt(n_reps)``).
    """

    key: str
    name: str          # e.g. 杭州市
    short: str         # e.g. 杭州 (used in company names)
    lat: float
    lon: float
    spread_km: float
    spacing_km: float
    districts: tuple[District, ...]


def _d(name: str, lat: float, lon: float, roads: str) -> District:
    return District(name, lat, lon, tuple(roads.split()))


CITIES: dict[str, City] = {
    "hangzhou": City(
        "hangzhou", "杭州市", "杭州", 30.27, 120.15, spread_km=3.4, spacing_km=10.0,
        districts=(
            _d("上城区", 30.255, 120.180, "延安路 解放路 庆春路 建国南路 望江路 秋涛路 江锦路 钱江路"),
            _d("拱墅区", 30.320, 120.150, "莫干山路 湖墅南路 上塘路 大关路 丽水路 台州路 登云路 小河路"),
            _d("西湖区", 30.275, 120.115, "文三路 文二路 天目山路 古墩路 教工路 学院路 黄姑山路 西溪路"),
            _d("滨江区", 30.205, 120.210, "江南大道 滨盛路 长河路 江陵路 浦沿路 火炬大道 江虹路 网商路"),
            _d("余杭区", 30.290, 120.015, "文一西路 五常大道 良睦路 荆长大道 余杭塘路 高教路 联胜路"),
            _d("萧山区", 30.165, 120.265, "市心路 人民路 金城路 通惠路 北干山路 山阴路 育才路 萧绍路"),
            _d("临平区", 30.420, 120.300, "迎宾路 世纪大道 人民大道 南苑街 邱山大街 藕花洲大街"),
            _d("钱塘区", 30.310, 120.370, "文泽路 学林街 下沙路 金沙大道 福城路 松合路"),
            _d("富阳区", 30.050, 119.960, "江滨西大道 金桥北路 桂花路 体育馆路 达夫路 富春街"),
        )),
    "shanghai": City(
        "shanghai", "上海市", "上海", 31.23, 121.47, spread_km=2.9, spacing_km=9.0,
        districts=(
            _d("黄浦区", 31.230, 121.485, "南京东路 淮海中路 西藏南路 复兴中路 河南中路"),
            _d("静安区", 31.255, 121.450, "南京西路 延安中路 共和新路 北京西路 江宁路"),
            _d("徐汇区", 31.185, 121.435, "漕溪北路 肇嘉浜路 天钥桥路 衡山路 龙华中路"),
            _d("长宁区", 31.215, 121.400, "天山路 仙霞路 愚园路 长宁路 古北路"),
            _d("虹口区", 31.275, 121.500, "四川北路 曲阳路 大连路 西江湾路 东江湾路"),
            _d("杨浦区", 31.290, 121.530, "四平路 国权路 控江路 黄兴路 政通路"),
            _d("浦东新区", 31.225, 121.555, "世纪大道 张杨路 浦东南路 东方路 杨高中路"),
            _d("普陀区", 31.250, 121.390, "曹杨路 真北路 中山北路 武宁路 金沙江路"),
            _d("闵行区", 31.110, 121.380, "沪闵路 七莘路 虹井路 都市路 莘松路"),
            _d("宝山区", 31.400, 121.450, "牡丹江路 友谊路 共康路 泰和路 淞滨路"),
        )),
    "chengdu": City(
        "chengdu", "成都市", "成都", 30.66, 104.07, spread_km=3.2, spacing_km=9.5,
        districts=(
            _d("锦江区", 30.655, 104.085, "春熙路 红星路 东大街 书院街 总府路"),
            _d("青羊区", 30.675, 104.050, "蜀都大道 青华路 光华大道 西大街 长顺街"),
            _d("武侯区", 30.635, 104.040, "人民南路 科华北路 玉林路 武侯祠大街 高升桥路"),
            _d("成华区", 30.685, 104.110, "建设路 二仙桥路 双林路 府青路 猛追湾街"),
            _d("金牛区", 30.710, 104.045, "沙湾路 金府路 营门口路 蜀汉路 解放路"),
            _d("高新区", 30.585, 104.065, "天府大道 天府三街 益州大道 剑南大道 交子大道"),
            _d("双流区", 30.575, 103.925, "棠湖路 航空路 东升路 双华路"),
            _d("郫都区", 30.795, 103.900, "望丛东路 红光大道 犀浦路 德源大道"),
            _d("新都区", 30.825, 104.160, "新都大道 桂湖路 蜀龙大道 马超路"),
            _d("龙泉驿区", 30.560, 104.275, "龙都大道 驿都大道 北京路 航天北路"),
        )),
}

# Word lists (names are made up from these; any resemblance to a real shop is chance).
_SHOP_CHARS = tuple("鑫华金盛恒泰隆丰源达宏利佳和康美福兴旺顺安瑞祥通正新德明益嘉荣昌永信诚汇聚乐友惠万家联众天宇海润腾飞宝辉")
_TOWN_CHARS = tuple("东南西北新中前后兴安和平城山河湖桥塘港庄溪林湾浦头口")
_ROAD_WORDS = ("人民", "解放", "建设", "新华", "中山", "兴业", "工业", "环城", "文化", "学府", "迎宾",
               "长安", "和平", "府前", "科技", "创业", "滨江", "望湖", "青年", "振兴")
_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
          "秀英", "华", "平", "刚", "桂英", "建国", "晓东", "志强", "海燕", "雪梅", "浩然", "子涵", "宇航", "思琪")
# Shop kinds by grade: key accounts are companies and chains, D customers small shops.
_KINDS_BY_GRADE = {
    "A": ("{city}{w}商贸有限公司", "{city}{w}贸易有限公司", "{w}连锁超市({road}店)", "{w}购物中心",
          "{city}{w}食品有限公司"),
    "B": ("{w}超市", "{w}连锁超市({road}店)", "{city}{w}商贸有限公司", "{w}餐饮店", "{w}药房", "{w}百货"),
    "C": ("{w}便利店", "{w}超市", "{w}烟酒店", "{w}副食品店", "{w}餐饮店", "{w}五金店", "{w}药房"),
    "D": ("{w}便利店", "{w}烟酒店", "{w}副食品店", "{w}小卖部", "{w}五金店", "{w}水果店", "{road}{w}商店"),
}

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
GRADE_SHARES: tuple[float, ...] = (0.12, 0.28, 0.35, 0.25)
INACTIVE_SHARE = 0.03
PINNED_SHARE = 0.05
FREQ_OVERRIDE_SHARE = 0.03
MINUTES_OVERRIDE_SHARE = 0.03
# Frequency overrides that make sense for each grade.
_FREQ_OVERRIDES = {"A": ("1/week",), "B": ("2/week", "1/2weeks"), "C": ("1/week", "1/4weeks"), "D": ("1/2weeks",)}
_MINUTE_OVERRIDES = (20, 40, 50, 75, 90)
# Opening hours: lunch closures built from these parts; single windows from this list.
_MORNING_OPEN = ("08:00", "08:30", "09:00", "09:30")
_MORNING_CLOSE = ("11:30", "12:00", "12:00")
_AFTERNOON_OPEN = ("13:00", "13:30", "13:30", "14:00")
_AFTERNOON_CLOSE = ("17:00", "17:30", "18:00", "18:00", "20:00", "21:00")
_SINGLE_WINDOWS = ("08:00-17:00", "08:30-17:30", "09:00-18:00", "10:00-20:00", "09:00-21:00",
                   "07:00-19:00", "10:00-22:00", "07:00-11:30", "13:00-21:00")
OPEN_SHARES = (0.55, 0.30, 0.15)  # empty, lunch closure, single window
WORK_START = 8 * 60 + 30
WORK_END = 17 * 60 + 30


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------
def _km_to_deg(lat0: float, dx_km: np.ndarray, dy_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East/north km offsets -> (dlat, dlon) degrees around latitude ``lat0``."""
    return dy_km / KM_PER_DEG_LAT, dx_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))


def _district_layout(city: City, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str], list[tuple[str, ...]]]:
    """``n`` district centres as km offsets (east, north) from the city centre, names and roads.

    The real districts come first; the rest sit on a jittered hexagonal lattice around them,
    ordered by distance to the centre and kept at least 0.75 spacing away from any other.
    """
    real = city.districts[:n]
    coslat = math.cos(math.radians(city.lat))
    xy = [((d.lon - city.lon) * KM_PER_DEG_LAT * coslat, (d.lat - city.lat) * KM_PER_DEG_LAT) for d in real]
    names = [d.name for d in real]
    roads = [d.roads for d in real]
    extra = n - len(real)
    if extra > 0:
        s = city.spacing_km
        radius = s * (math.sqrt(n) + 3)
        k = int(radius / s) + 2
        ii, jj = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1))
        cand = np.column_stack([(ii + 0.5 * (jj % 2)).ravel() * s, (jj * s * math.sqrt(3) / 2).ravel()])
        cand += rng.normal(0.0, 0.12 * s, cand.shape)
        order = np.argsort(np.hypot(cand[:, 0], cand[:, 1]), kind="stable")
        cand = cand[order]
        have = np.array(xy, dtype=float).reshape(-1, 2)
        # keep lattice points away from the real districts (the lattice itself is spaced already)
        if len(have):
            dmin = np.min(np.hypot(cand[:, None, 0] - have[None, :, 0], cand[:, None, 1] - have[None, :, 1]), axis=1)
            cand = cand[dmin >= 0.75 * s]
        cand = cand[:extra]
        real_xy = np.array([((d.lon - city.lon) * KM_PER_DEG_LAT * coslat, (d.lat - city.lat) * KM_PER_DEG_LAT)
                            for d in city.districts])
        used: set[str] = set(names)
        for p in cand:
            parent = city.districts[int(np.argmin(np.hypot(*(real_xy - p).T)))]
            while True:
                town = "".join(rng.choice(_TOWN_CHARS, 2)) + ("街道" if rng.random() < 0.5 else "镇")
                if parent.name + town not in used:
                    break
            used.add(parent.name + town)
            names.append(parent.name + town)
            roads.append(tuple(f"{w}路" for w in rng.choice(_ROAD_WORDS, 5, replace=False)))
            xy.append((float(p[0]), float(p[1])))
    return np.array(xy, dtype=float).reshape(-1, 2), names, roads


def _quotas(n: int, shares: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``shares`` (largest remainder)."""
    w = np.asarray(shares, dtype=float)
    raw = n * w / w.sum()
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _flags(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """A boolean mask with exactly ``round(share * n)`` True values at random places."""
    out = np.zeros(n, dtype=bool)
    out[rng.choice(n, int(round(share * n)), replace=False)] = True
    return out


def _person_name(rng: np.random.Generator) -> str:
    return str(rng.choice(_SURNAMES)) + str(rng.choice(_GIVEN))


def generate_region(n_customers: int, n_reps: int, *, seed: int = 0, city: str = "hangzhou") -> Region:
    """A deterministic, realistic demo region: ``n_customers`` customers and ``n_reps`` reps.

    Same arguments, same region. ``city`` is a key of :data:`CITIES`.
    """
    if n_reps < 1:
        raise ValueError("need at least one rep")
    if n_customers < 0:
        raise ValueError("n_customers must not be negative")
    try:
        cty = CITIES[city]
    except KeyError:
        raise ValueError(f"unknown city {city!r}; known: {', '.join(CITIES)}") from None
    rng = np.random.default_rng(seed)
    n = n_customers

    # --- districts and reps -----------------------------------------------------------------
    centres, dnames, droads = _district_layout(cty, n_reps, rng)
    nd = len(centres)
    sigma = cty.spread_km * rng.uniform(0.85, 1.15, nd)            # per-district spread (km)
    axis = rng.uniform(0.6, 1.0, nd)                              # anisotropy
    angle = rng.uniform(0.0, math.pi, nd)
    home_xy = centres + rng.normal(0.0, 0.15 * cty.spread_km, (nd, 2))

    # --- customers: a mixture of Gaussians --------------------------------------------------
    weights = rng.uniform(0.92, 1.08, nd)
    district = rng.permutation(np.repeat(np.arange(nd), _quotas(n, weights)))  # ids not sorted by area
    # three hotspots ("commercial streets") per district, plus a diffuse part
    n_hot = 3
    hot = rng.normal(0.0, 0.8, (nd, n_hot, 2)) * sigma[:, None, None]
    comp = rng.integers(-1, n_hot, n)                             # -1: diffuse
    z = rng.normal(0.0, 1.0, (n, 2))
    r = np.hypot(z[:, 0], z[:, 1])
    z *= (np.minimum(r, 2.5) / np.maximum(r, 1e-12))[:, None]     # clip the tails at 2.5 sigma
    is_hot = comp >= 0
    scale = np.where(is_hot, 0.35, 1.0) * sigma[district]
    zx, zy = z[:, 0] * scale, z[:, 1] * scale * axis[district]
    ca, sa = np.cos(angle[district]), np.sin(angle[district])
    off = np.column_stack([zx * ca - zy * sa, zx * sa + zy * ca])
    base = centres[district] + np.where(is_hot[:, None], hot[district, np.maximum(comp, 0)], 0.0)
    cxy = base + off
    dlat, dlon = _km_to_deg(cty.lat, cxy[:, 0], cxy[:, 1])
    lat = np.round(cty.lat + dlat, 6)
    lon = np.round(cty.lon + dlon, 6)
    hlat, hlon = _km_to_deg(cty.lat, home_xy[:, 0], home_xy[:, 1])
    hlat = np.round(cty.lat + hlat, 6)
    hlon = np.round(cty.lon + hlon, 6)

    # --- attributes: exact shares at random places, so small regions get the mix too ---------
    grade_idx = rng.permutation(np.repeat(np.arange(len(GRADES)), _quotas(n, GRADE_SHARES)))
    inactive = _flags(rng, n, INACTIVE_SHARE)
    pinned = _flags(rng, n, PINNED_SHARE)
    freq_over = _flags(rng, n, FREQ_OVERRIDE_SHARE)
    min_over = _flags(rng, n, MINUTES_OVERRIDE_SHARE)
    open_kind = rng.permutation(np.repeat(np.arange(3), _quotas(n, OPEN_SHARES)))
    u = rng.random((n, 10))                                         # uniforms for the picks below
    house_no = rng.integers(1, 800, n)
    # nearest rep home (km offsets are fine at city scale), for pins; chunked to bound memory
    nearest = np.empty(n, dtype=int)
    for a in range(0, n, 4000):
        b = min(n, a + 4000)
        nearest[a:b] = np.argmin((cxy[a:b, None, 0] - home_xy[None, :, 0]) ** 2
                                 + (cxy[a:b, None, 1] - home_xy[None, :, 1]) ** 2, axis=1)

    width = max(4, len(str(n)))
    rwidth = max(2, len(str(n_reps)))
    rep_ids = [f"R{i + 1:0{rwidth}d}" for i in range(n_reps)]

    def pick(seq: Sequence[str], x: float) -> str:
        return seq[min(int(x * len(seq)), len(seq) - 1)]

    customers: list[Customer] = []
    seen_names: set[str] = set()
    for i in range(n):
        g = GRADES[grade_idx[i]]
        di = district[i]
        road = pick(droads[di], u[i, 0])
        w = pick(_SHOP_CHARS, u[i, 1]) + pick(_SHOP_CHARS, u[i, 2])
        name = pick(_KINDS_BY_GRADE[g], u[i, 3]).format(city=cty.short, w=w, road=road)
        if name in seen_names:  # a second shop of the same name: a branch
            name = f"{name}{road}{house_no[i]}号分店"
        seen_names.add(name)
        address = f"{cty.name}{dnames[di]}{road}{house_no[i]}号"
        freq = Frequency.parse(pick(_FREQ_OVERRIDES[g], u[i, 4])) if freq_over[i] else None
        minutes = int(pick(_MINUTE_OVERRIDES, u[i, 5])) if min_over[i] else None
        if open_kind[i] == 1:
            v = (f"{pick(_MORNING_OPEN, u[i, 6])}-{pick(_MORNING_CLOSE, u[i, 7])},"
                 f"{pick(_AFTERNOON_OPEN, u[i, 8])}-{pick(_AFTERNOON_CLOSE, u[i, 9])}")
        elif open_kind[i] == 2:
            v = pick(_SINGLE_WINDOWS, u[i, 6])
        else:
            v = ""
        customers.append(Customer(
            id=f"C{i + 1:0{width}d}", name=name,
            location=Location(float(lat[i]), float(lon[i])), grade=g,
            frequency=freq, visit_minutes=minutes, opening=parse_windows(v),
            rep_id=rep_ids[nearest[i]] if pinned[i] and nearest[i] < n_reps else None,
            active=not inactive[i], address=address))

    # --- reps ---------------------------------------------------------------------------------
    # one or two reps (3 %) have a cap of 8 visits a day: chosen among the lighter districts
    n_capped = 0 if n_reps < 3 else max(1, round(0.03 * n_reps))
    lighter = np.argsort(weights, kind="stable")[: max(n_capped, n_reps // 2)]
    capped = set(rng.choice(lighter, n_capped, replace=False).tolist()) if n_capped else set()
    # about one rep in ten ends the day at the district's office instead of at home
    office = np.zeros(n_reps, dtype=bool)
    if n_reps >= 3:
        office[rng.choice(n_reps, max(1, round(0.1 * n_reps)), replace=False)] = True
    off_xy = centres[:n_reps] + rng.normal(0.0, 0.25 * cty.spread_km, (n_reps, 2))
    olat, olon = _km_to_deg(cty.lat, off_xy[:, 0], off_xy[:, 1])
    cost_km = np.round(rng.uniform(0.8, 1.2, n_reps) * 20) / 20
    cost_h = rng.integers(40, 61, n_reps)
    reps: list[Rep] = []
    used_names: set[str] = set()
    for j in range(n_reps):
        name = _person_name(rng)
        while name in used_names and len(used_names) < len(_SURNAMES) * len(_GIVEN):
            name = _person_name(rng)
        used_names.add(name)
        end = Location(round(cty.lat + float(olat[j]), 6), round(cty.lon + float(olon[j]), 6)) if office[j] else None
        reps.append(Rep(
            id=rep_ids[j], name=name, start=Location(float(hlat[j]), float(hlon[j])), end=end,
            work_start=WORK_START, work_end=WORK_END, workdays=DEFAULT_WORKDAYS,
            max_visits_per_day=8 if j in capped else None,
            cost_per_km=float(cost_km[j]), cost_per_hour=float(cost_h[j])))
    return Region(customers=tuple(customers), reps=tuple(reps), policy=VisitPolicy())


# ----------------------------------------------------------------------------------------------
# Rows and CSV
# ----------------------------------------------------------------------------------------------
def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def customer_row(c: Customer) -> dict[str, str]:
    """One customer as a CSV row with the interfaces.md columns (all values strings)."""
    return {
        "id": c.id, "name": c.name, "address": c.address or "",
        "lat": f"{c.location.lat:.6f}", "lon": f"{c.location.lon:.6f}",
        "grade": c.grade,
        "frequency": str(c.frequency) if c.frequency is not None else "",
        "visit_minutes": str(c.visit_minutes) if c.visit_minutes is not None else "",
        "open": format_windows(c.opening),
        "rep_id": c.rep_id or "",
        "active": "true" if c.active else "false",
    }


def rep_row(r: Rep) -> dict[str, str]:
    """One rep as a CSV row with the interfaces.md columns (all values strings)."""
    return {
        "id": r.id, "name": r.name,
        "start_lat": f"{r.start.lat:.6f}", "start_lon": f"{r.start.lon:.6f}",
        "end_lat": f"{r.end.lat:.6f}" if r.end else "", "end_lon": f"{r.end.lon:.6f}" if r.end else "",
        "work_start": format_hhmm(r.work_start), "work_end": format_hhmm(r.work_end),
        "workdays": format_workdays(r.workdays),
        "max_visits_per_day": str(r.max_visits_per_day) if r.max_visits_per_day is not None else "",
        "cost_per_km": _num(r.cost_per_km), "cost_per_hour": _num(r.cost_per_hour),
    }


def region_rows(region: Region) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(customer rows, rep rows), each a dict keyed by exactly the interfaces.md columns."""
    return [customer_row(c) for c in region.customers], [rep_row(r) for r in region.reps]


def write_region_csv(region: Region, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``customers.csv`` and ``reps.csv`` (UTF-8, no BOM, ``\\n`` line ends) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    crow, rrow = region_rows(region)
    paths = out / "customers.csv", out / "reps.csv"
    for path, cols, rows in ((paths[0], CUSTOMER_COLUMNS, crow), (paths[1], REP_COLUMNS, rrow)):
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(cols), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return paths


# ----------------------------------------------------------------------------------------------
# A rough weekly-load estimate (for tests and for sizing demo data, not for planning)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RepLoad:
    """A rep's estimated average week: customers, visits, hours and the share of capacity used."""

    rep_id: str
    customers: int
    visits_per_week: float
    visits_per_day: float
    visit_hours: float
    travel_hours: float
    capacity_hours: float

    @property
    def load(self) -> float:
        """(visit + travel hours) / capacity hours."""
        return (self.visit_hours + self.travel_hours) / self.capacity_hours


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    la1, lo1, la2, lo2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def assign_territories(region: Region, *, slack: float = 1.08, max_extra_km: float = 6.0) -> dict[str, str]:
    """A simple balanced territory split: customer id -> rep id (active customers only).

    Pins are kept; the others go, in order of regret (how much farther the second-nearest home
    is), to the nearest rep whose weekly visit hours stay under ``slack`` × the average; then
    reps under ``2 - slack`` × the average take over, one at a time, the customers that cost
    them the least extra distance (at most ``max_extra_km`` farther than their current rep).
    """
    policy = region.policy
    reps = region.reps
    act = [c for c in region.customers if c.active]
    if not act:
        return {}
    idx = {r.id: j for j, r in enumerate(reps)}
    hours = np.array([policy.frequency_of(c).visits_per_week * policy.visit_minutes_of(c) / 60 for c in act])
    cap = slack * hours.sum() / len(reps)
    used = np.zeros(len(reps))
    out: dict[str, str] = {}
    free = []
    for k, c in enumerate(act):
        if c.rep_id and c.rep_id in idx:
            out[c.id] = c.rep_id
            used[idx[c.rep_id]] += hours[k]
        else:
            free.append(k)
    if not free:
        return out
    clat = np.array([act[k].location.lat for k in free])
    clon = np.array([act[k].location.lon for k in free])
    rlat = np.array([r.start.lat for r in reps])
    rlon = np.array([r.start.lon for r in reps])
    d = _haversine_km(clat[:, None], clon[:, None], rlat[None, :], rlon[None, :])
    order_r = np.argsort(d, axis=1, kind="stable")
    if len(reps) > 1:
        part = np.sort(d, axis=1)
        regret = part[:, 1] - part[:, 0]
    else:
        regret = np.zeros(len(free))
    hf = hours[free]
    owner = np.empty(len(free), dtype=int)
    for i in np.argsort(-regret, kind="stable"):
        for j in order_r[i]:
            if used[j] + hf[i] <= cap:
                break
        else:
            j = int(np.argmin(used))
        used[j] += hf[i]
        owner[i] = j
    # lift under-loaded reps: move the customer that costs the least extra distance to them
    low = (2.0 - slack) * hours.sum() / len(reps)
    rows = np.arange(len(free))
    for _ in range(10 * len(free)):
        j = int(np.argmin(used))
        if used[j] >= low:
            break
        extra = d[:, j] - d[rows, owner]
        extra[(owner == j) | (used[owner] - hf <= used[j] + hf)] = np.inf
        i = int(np.argmin(extra))
        if not extra[i] < max_extra_km:
            break
        used[owner[i]] -= hf[i]
        used[j] += hf[i]
        owner[i] = j
    for i, k in enumerate(free):
        out[act[k].id] = reps[owner[i]].id
    return out


def _nn_tour_km(start: np.ndarray, end: np.ndarray, pts: np.ndarray) -> float:
    """Nearest-neighbour tour start -> all pts -> end (great-circle km); pts is (k, 2) lat/lon."""
    pos = start
    left = list(range(len(pts)))
    total = 0.0
    while left:
        dd = _haversine_km(pos[0], pos[1], pts[left, 0], pts[left, 1])
        m = int(np.argmin(dd))
        total += float(dd[m])
        pos = pts[left[m]]
        left.pop(m)
    return total + float(_haversine_km(pos[0], pos[1], end[0], end[1]))


def _sweep_sectors(start: np.ndarray, pts: np.ndarray, w: np.ndarray, ndays: int) -> np.ndarray:
    """Split customers into ``ndays`` angular sectors around ``start`` of about equal weight."""
    dy = pts[:, 0] - start[0]
    dx = (pts[:, 1] - start[1]) * math.cos(math.radians(float(start[0])))
    ang = np.arctan2(dy, dx)
    order = np.argsort(ang, kind="stable")
    if len(order) > 1:  # begin the sweep after the widest empty angle
        a = ang[order]
        gaps = np.diff(np.append(a, a[0] + 2 * math.pi))
        order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    cum = np.cumsum(w[order]) - w[order]
    sector = np.empty(len(pts), dtype=int)
    sector[order] = np.minimum((cum / w.sum() * ndays).astype(int), ndays - 1)
    return sector


def estimate_weekly_load(region: Region, *, circuity: float = 1.3, speed_kmh: float = 30.0,
                         lunch_minutes: int = 60, days_per_sector: int = 12, seed: int = 0,
                         clustered: bool = True,
                         assignment: dict[str, str] | None = None) -> list[RepLoad]:
    """A rough estimate of each rep's average week (for sizing demo data, not for planning).

    Customers are split between reps by :func:`assign_territories` (unless ``assignment`` is
    given). Visit hours are exact averages under the region's policy. Travel: the rep's
    customers are cut into one angular sector per workday around the start (the "petals" a
    planner would drive; ``clustered=False``: no sectors, a pessimistic bound), and
    ``days_per_sector`` days are sampled in each, with the sector's average number of visits
    drawn at random (weighted by visits a week) and toured nearest-neighbour from the start to
    the end location; km × ``circuity`` at ``speed_kmh``. Capacity: (working day − lunch) ×
    workdays.
    """
    policy = region.policy
    assignment = assign_territories(region) if assignment is None else assignment
    by_rep: dict[str, list[Customer]] = {r.id: [] for r in region.reps}
    for c in region.customers:
        if c.active and c.id in assignment:
            by_rep[assignment[c.id]].append(c)
    rng = np.random.default_rng(seed)
    out = []
    for r in region.reps:
        cs = by_rep[r.id]
        ndays = len(r.workdays)
        cap_h = ndays * (r.work_end - r.work_start - lunch_minutes) / 60
        vpw = np.array([policy.frequency_of(c).visits_per_week for c in cs])
        vis_h = float(sum(v * policy.visit_minutes_of(c) / 60 for v, c in zip(vpw, cs)))
        per_day = float(vpw.sum()) / ndays if cs else 0.0
        week_km = 0.0
        if cs and per_day > 0:
            pts = np.array([[c.location.lat, c.location.lon] for c in cs])
            start = np.array([r.start.lat, r.start.lon])
            end = np.array([r.end_location.lat, r.end_location.lon])
            groups = _sweep_sectors(start, pts, vpw, ndays) if clustered else np.zeros(len(cs), dtype=int)
            n_groups = ndays if clustered else 1
            for g in range(n_groups):
                members = np.flatnonzero(groups == g)
                if not len(members):
                    continue
                wg = vpw[members]
                k_avg = float(wg.sum()) if clustered else per_day
                km = []
                for _ in range(days_per_sector * (1 if clustered else ndays)):
                    # a day has the floor or the ceiling of the average number of visits
                    k = min(int(k_avg) + (1 if rng.random() < k_avg - int(k_avg) else 0), len(members))
                    pick = members[rng.choice(len(members), k, replace=False, p=wg / wg.sum())] if k else []
                    km.append(_nn_tour_km(start, end, pts[pick]) if k else 0.0)
                week_km += float(np.mean(km)) * (1 if clustered else ndays)
        travel_h = week_km * circuity / speed_kmh
        out.append(RepLoad(r.id, len(cs), float(vpw.sum()), per_day, vis_h, travel_h, cap_h))
    return out
