"""Geocoding with a persistent cache of hits and misses."""
from __future__ import annotations

import pytest

from planner.domain import Location, VisitPolicy
from planner.geo.geocode import CachingGeocoder, GeocodeCache, GeocodeError, normalize_address
from planner.io.customers import parse_customers
from tests.conftest import FakeGeocoder, write_csv


def test_normalize_address():
    assert normalize_address("  1  Main  St ,Springfield ") == "1 main st, springfield"
    assert normalize_address("北京市，朝阳区") == normalize_address("北京市, 朝阳区")
    assert normalize_address("ＡＢＣ 1") == "abc 1"


def test_hit_miss_and_cache_persist_across_instances(tmp_path):
    cache = tmp_path / "cache" / "geo.sqlite"
    fake = FakeGeocoder({"1 Main St": (10.0, 20.0)})
    g = CachingGeocoder(fake, cache_path=cache)
    assert g.locate("1 Main St") == Location(10.0, 20.0)
    assert g.locate(" 1 main st ") == Location(10.0, 20.0)  # same normalized key: cached
    with pytest.raises(GeocodeError, match="no place found"):
        g.locate("Nowhere")
    with pytest.raises(GeocodeError, match="no place found"):
        g.locate("NOWHERE")  # the miss is cached too
    assert fake.calls == ["1 Main St", "Nowhere"] and g.calls == 2
    g.close()

    other = FakeGeocoder({})
    g2 = CachingGeocoder(other, cache_path=cache)
    assert g2.locate("1 MAIN ST") == Location(10.0, 20.0)
    with pytest.raises(GeocodeError):
        g2.locate("nowhere")
    assert other.calls == [] and len(g2.cache) == 2


def test_service_errors_are_not_cached(tmp_path):
    fake = FakeGeocoder({})
    g = CachingGeocoder(fake, cache_path=tmp_path / "c.sqlite")
    for _ in range(2):
        with pytest.raises(GeocodeError, match="GeocoderUnavailable"):
            g.locate("explode")
    assert fake.calls == ["explode", "explode"]
    assert g.cache.lookup(normalize_address("explode")) == (False, None)


def test_unusable_coordinates(tmp_path):
    fake = FakeGeocoder({"Mars": (123.0, 0.0)})
    with pytest.raises(GeocodeError, match="unusable"):
        CachingGeocoder(fake, cache_path=tmp_path / "c.sqlite").locate("Mars")


def test_cache_file_from_settings(geocode_cache):
    g = CachingGeocoder(FakeGeocoder({"a": (1.0, 2.0)}))
    g.locate("a")
    assert GeocodeCache(geocode_cache).lookup("a") == (True, Location(1.0, 2.0))


def test_default_backend_is_built_lazily(monkeypatch, geocode_cache):
    import planner.geo.geocode as geocode

    built = []
    monkeypatch.setattr(geocode, "default_backend", lambda settings=None: built.append(1) or FakeGeocoder({"x": (1.0, 1.0)}))
    g = CachingGeocoder()
    assert built == []
    assert g.locate("x") == Location(1.0, 1.0) and built == [1]


def test_default_backend_is_nominatim_with_settings_user_agent(monkeypatch):
    from planner.geo.geocode import default_backend
    from planner.settings import Settings

    backend = default_backend(Settings(geocoder_user_agent="planner-tests"))
    assert backend._fn.func.__self__.__class__.__name__ == "Nominatim"
    assert backend._fn.func.__self__.headers["User-Agent"] == "planner-tests"


def test_import_uses_the_cache_across_geocoder_instances(tmp_path, geocode_cache):
    path = write_csv(tmp_path / "c.csv", [
        ["id", "name", "address", "grade"],
        ["C1", "a", "上海市黄浦区南京东路1号", "A"],
        ["C2", "b", "上海市黄浦区南京东路１号", "B"],  # same place, full-width digit
        ["C3", "c", "unknown place", "B"],
    ])
    first = FakeGeocoder({"上海市黄浦区南京东路1号": (31.24, 121.49)})
    r1 = parse_customers(path, VisitPolicy(), geocoder=first)
    assert [c.location for c in r1.items] == [Location(31.24, 121.49)] * 2
    assert [(e.row, e.column) for e in r1.errors] == [(4, "address")]
    assert len(first.calls) == 2

    second = FakeGeocoder({})
    r2 = parse_customers(path, VisitPolicy(), geocoder=second)
    assert r2.items == r1.items and r2.errors == r1.errors
    assert second.calls == []
