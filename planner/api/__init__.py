"""The HTTP API (FastAPI): ``create_app`` in :mod:`planner.api.main`, run by ``planner serve``."""
