"""Routing engines. Solvers see only the index-based :class:`RoutingProblem`."""
