"""Research benchmarks read into the product's model: Solomon VRPTW and Cordeau periodic VRP.

The instances become a :class:`~planner.domain.Region` (planar coordinates through
:class:`PlanarTravel`, a shared fleet, explicit visit-day patterns) and are planned by the same
pipeline that plans real weeks (:func:`planner.pipeline.plan_region`).
"""
