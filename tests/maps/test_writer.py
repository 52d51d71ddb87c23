import re
import time

from maps import write_maps


def test_write_maps_files_and_index(region, plan, tmp_path):
    files = write_maps(region, plan, tmp_path / "maps")
    out = tmp_path / "maps"
    assert files == [out / "region.html", out / "R1" / "2026-11-30.html",
                     out / "R2" / "2026-12-01.html", out / "index.html"]
    assert all(f.stat().st_size > 0 for f in files)
    assert not (out / "R1" / "2026-12-01.html").exists()  # empty route: no map
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"href='([^']+)'", index) == ["region.html", "R1/2026-11-30.html",
                                                     "R2/2026-12-01.html"]
    assert "王伟 (R1)" in index and "2026-11-30 周一" in index
    region_html = (out / "region.html").read_text(encoding="utf-8")
    assert region_html.count("L.circleMarker(") == 3


def test_write_maps_english_and_without_plan(region, plan, tmp_path):
    write_maps(region, plan, tmp_path / "en", lang="en")
    assert "Region map" in (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    files = write_maps(region, None, tmp_path / "none")
    assert [f.name for f in files] == ["region.html", "index.html"]


def test_write_maps_is_fast_for_a_small_plan(region, plan, tmp_path):
    t0 = time.perf_counter()
    write_maps(region, plan, tmp_path)
    assert time.perf_counter() - t0 < 5
