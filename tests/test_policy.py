"""load_policy: the grade table from TOML, and clear errors naming the file."""
from __future__ import annotations

import pytest

from planner.domain import Customer, DomainError, Frequency, GradeRule, Location
from planner.policy import load_policy


def write(tmp_path, text, name="policy.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_policy_is_the_rules_table():
    pol = load_policy(None)
    assert pol.grades == ("A", "B", "C", "D")
    assert pol.rules["A"] == GradeRule(Frequency(2, 1), 60)
    assert pol.rules["B"] == GradeRule(Frequency(1, 1), 45)
    assert pol.rules["C"] == GradeRule(Frequency(1, 2), 30)
    assert pol.rules["D"] == GradeRule(Frequency(1, 4), 30)


def test_load_policy_from_toml(tmp_path):
    p = write(tmp_path, '[grades.VIP]\nfrequency = "3/week"\nvisit_minutes = 90\n\n'
                        '[grades.X]\nfrequency = "1/2 weeks"\nvisit_minutes = 20\n')
    pol = load_policy(p)
    assert pol.grades == ("VIP", "X")
    assert pol.rules["VIP"] == GradeRule(Frequency(3), 90)
    assert pol.rules["X"] == GradeRule(Frequency(1, 2), 20)
    c = Customer("C1", "c", Location(0, 0), "X")
    assert (pol.frequency_of(c), pol.visit_minutes_of(c)) == (Frequency(1, 2), 20)
    # a customer's own values win over the grade's
    c2 = Customer("C2", "c", Location(0, 0), "X", frequency=Frequency(1), visit_minutes=50)
    assert (pol.frequency_of(c2), pol.visit_minutes_of(c2)) == (Frequency(1), 50)
    with pytest.raises(DomainError, match="'A'"):
        pol.frequency_of(Customer("C3", "c", Location(0, 0), "A"))


def test_the_example_policy_in_fixtures_loads():
    from pathlib import Path
    p = Path(__file__).resolve().parents[1] / "fixtures" / "policy.example.toml"
    if not p.exists():
        pytest.skip("no fixtures/policy.example.toml")
    assert load_policy(p).grades


def test_bad_toml_names_the_file(tmp_path):
    p = write(tmp_path, "[grades.A\nfrequency = 2/week\n", name="broken-policy.toml")
    with pytest.raises(DomainError) as e:
        load_policy(p)
    assert "broken-policy.toml" in str(e.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DomainError, match="nope.toml"):
        load_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize("text, words", [
    ("title = 'x'\n", "no [grades.X] tables"),
    ("[grades.A]\nfrequency = '2/week'\n", "grade A needs frequency and visit_minutes"),
    ("[grades.A]\nfrequency = '2/week'\nvisit_minutes = 0\n", "visit_minutes must be a positive"),
    ("[grades.A]\nfrequency = '2/week'\nvisit_minutes = 'long'\n", "visit_minutes must be a positive"),
    ("[grades.A]\nfrequency = 'often'\nvisit_minutes = 30\n", "bad frequency 'often'"),
    ("[grades.A]\nfrequency = '2/2weeks'\nvisit_minutes = 30\n", "unsupported frequency"),
])
def test_invalid_policies(tmp_path, text, words):
    p = write(tmp_path, text)
    with pytest.raises(DomainError) as e:
        load_policy(p)
    assert words in str(e.value)


def test_bad_frequency_names_the_file_and_grade(tmp_path):
    p = write(tmp_path, "[grades.A]\nfrequency = 'often'\nvisit_minutes = 30\n", name="team-policy.toml")
    with pytest.raises(DomainError) as e:
        load_policy(p)
    assert "team-policy.toml" in str(e.value) and "A" in str(e.value).replace("often", "")


def test_boolean_visit_minutes_is_rejected(tmp_path):
    p = write(tmp_path, "[grades.A]\nfrequency = '1/week'\nvisit_minutes = true\n")
    with pytest.raises(DomainError, match="visit_minutes"):
        load_policy(p)
