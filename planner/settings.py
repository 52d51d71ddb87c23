"""All settings in one place, read from the environment (prefix ``PLANNER_``) or a ``.env`` file."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Planner settings. ``PLANNER_DATABASE_URL`` unset: an SQLite file in the working directory."""

    model_config = SettingsConfigDict(env_prefix="PLANNER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///planner.db"
    circuity: float = 1.3
    speed_kmh: float = 30.0
    # travel model: haversine | osm:PATH (.osm.pbf) | osrm:URL | valhalla:URL (planner.geo.providers)
    travel: str = "haversine"
    travel_cache: Path = Path(".planner-travel-cache")  # road graphs built from OSM extracts
    policy_file: Path | None = None
    geocode_cache: Path = Path(".planner-geocode-cache.sqlite")
    geocoder: str = "nominatim"
    geocoder_user_agent: str = "field-visit-planner"
    # HTTP API (`planner serve`)
    job_workers: int = 1          # plans solved at the same time, each in its own process
    map_assets: str = "local"     # Leaflet JS/CSS of served maps: "local" (bundled) or "cdn"
    max_time_limit: float = 3600.0  # the longest search a POST /plans may ask for (seconds)
    # Parallel parts and scale-out (planner.pipeline.decompose, planner.jobs.celery_app)
    plan_workers: int | None = None   # parts planned at a time for one plan (pool size, Celery slots); None: cores
    parallel_min_customers: int = 1000  # API plan jobs without a broker: from this many active customers
                                        # the job decomposes the region and plans the parts in a local pool
    broker_url: str | None = None     # Celery broker, e.g. redis://127.0.0.1:6379/0: plan jobs run on `planner worker`s
    result_backend: str | None = None  # Celery result backend (part results); None: the broker URL
    broker_visibility_timeout: float = 7200.0  # s until a lost worker's unacknowledged part is redelivered
    part_max_attempts: int = 3        # a part delivered more often (its worker died each time) fails its job


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; call where needed, not at import)."""
    return Settings()
