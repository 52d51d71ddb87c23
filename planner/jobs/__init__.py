"""Running plans beyond this process: Celery workers (:mod:`planner.jobs.celery_app`).

Nothing here is imported by the rest of the package at import time; Celery is an optional
dependency (the ``celery`` extra).
"""
