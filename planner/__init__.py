"""Field-visit route planner: periodic visit scheduling and vehicle routing for sales reps."""

__version__ = "0.1.0"
