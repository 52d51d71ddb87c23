"""Loading a visit policy from TOML (the grade table of the rules page is the default).

Format::

    [grades.A]
    frequency = "2/week"
    visit_minutes = 60

    [grades.B]
    frequency = "1/week"
    visit_minutes = 45
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from types import MappingProxyType

from planner.domain import DomainError, Frequency, GradeRule, VisitPolicy


def load_policy(path: str | Path | None) -> VisitPolicy:
    """The policy in ``path``, or the default policy when ``path`` is None."""
    if path is None:
        return VisitPolicy()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DomainError(f"cannot read visit policy {p}: {e}") from e
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise DomainError(f"{p}: no [grades.X] tables")
    rules = {}
    for grade, spec in grades.items():
        if not isinstance(spec, dict) or "frequency" not in spec or "visit_minutes" not in spec:
            raise DomainError(f"{p}: grade {grade} needs frequency and visit_minutes")
        minutes = spec["visit_minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes < 24 * 60:
            raise DomainError(f"{p}: grade {grade}: visit_minutes must be a positive whole number")
        try:
            freq = Frequency.parse(str(spec["frequency"]))
        except DomainError as e:
            raise DomainError(f"{p}: grade {grade}: {e}") from e
        rules[str(grade)] = GradeRule(freq, minutes)
    return VisitPolicy(MappingProxyType(rules))
