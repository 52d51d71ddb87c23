"""CLI commands for re-planning: ``replan``, ``lock``/``locks``/``unlock``, ``unavailable``/``absences``
and ``explain``. Registered on the main ``planner`` app by :func:`register`."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from planner.domain import DomainError


def _date(text: str, option: str) -> dt.date:
    from planner.cli import _fail
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"bad {option} {text!r}, expected YYYY-MM-DD")
        raise  # unreachable


def _plan_and_facts(s, plan_id: str, policy: Optional[Path]):
    """The stored plan ``plan_id`` (or exit with the error), the region under ``policy`` and the
    absences: what re-planning and explaining read."""
    from planner.cli import _fail, _policy
    from planner.db.repository import PlanNotFound, load_absences, load_plan, load_region
    try:
        plan = load_plan(s, plan_id)
    except PlanNotFound as e:
        _fail(str(e))
        raise  # unreachable
    return plan, load_region(s, _policy(policy)), load_absences(s)


def replan_cmd(plan_id: str = typer.Argument("latest", help="plan id or 'latest'"),
               from_: str = typer.Option(..., "--from", help="first day to re-plan (YYYY-MM-DD); earlier days stay"),
               time_limit: float = typer.Option(30.0, min=1.0, help="seconds of search"),
               seed: int = typer.Option(1, help="random seed"),
               change_cost: float = typer.Option(15.0, min=0.0, help="cost of moving one visit to another day or rep "
                                                                    "(currency of route costs): moves must pay this"),
               policy: Optional[Path] = typer.Option(None, help="visit policy TOML"),
               show: int = typer.Option(40, help="change report rows to print (0: all)")) -> None:
    """Re-plan a stored plan from a date under the current facts (imports, absences, locks) with
    the fewest changes; store it as the new latest plan and print the change report."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import add_lock, load_locks, missed_visits, save_plan
    from planner.geo.providers import make_travel
    from planner.pipeline import PlanRejected
    from planner.pipeline.replan import ReplanError, replan
    from planner.settings import get_settings
    day = _date(from_, "--from")
    settings = get_settings()
    with _session() as s:
        previous, region, absences = _plan_and_facts(s, plan_id, policy)
        locks = load_locks(s, previous.plan_id)
        missed = missed_visits(s, previous.start, day)
        with Progress(TextColumn("[bold]{task.description:<12}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("re-planning", total=1.0)
            try:
                res = replan(region, previous, day, time_limit=time_limit, seed=seed, travel=make_travel(settings),
                             absences=absences, locks=locks, change_cost=change_cost, missed=missed,
                             progress=lambda stage, frac: bar.update(task, completed=frac, description=stage))
            except ReplanError as e:
                _fail(str(e))
            except PlanRejected as e:
                _fail(f"{e}\nThe plan was not stored (this is a bug in the engine; please report it).", 3)
        new_id = save_plan(s, res.plan, res.evaluation.kpis, changes=[c.as_dict() for c in res.changes])
        for lk in locks:
            add_lock(s, new_id, lk)
        s.commit()
    print_changes(res.changes, show)
    k = res.evaluation.kpis
    st = res.stats
    console.print(f"Kept {st['kept_visits']}/{st['unchanged_visits']} visits of unchanged customers on the same day "
                  f"and rep ({st['kept_share'] * 100:.1f}%); {st['displaced']} customer(s) placed anew. "
                  f"{k.get('visits')} visits, {k.get('distance_km')} km, cost {k.get('cost')}; "
                  f"{len(res.plan.unassigned)} unplanned. Evaluator: all rules kept.", highlight=False)
    console.print(f"plan id: {new_id} (re-planned from {previous.plan_id}, days before {day} unchanged)")


def print_changes(changes, show: int = 40) -> None:
    """The change report as a table (first ``show`` rows) and counts by kind and cause."""
    from planner.cli import console
    counts = Counter((c.kind, c.cause) for c in changes)
    if not changes:
        console.print("No changes against the previous plan.")
        return
    table = Table("customer", "change", "old (day, rep, time)", "new (day, rep, time)", "cause", "detail",
                  title=f"{len(changes)} change(s)")

    def where(d, r, t):
        return "" if d is None else f"{d} {r} {t.strftime('%H:%M') if t else ''}"
    order = {"added": 0, "removed": 1, "moved": 2, "retimed": 3}
    rows = sorted(changes, key=lambda c: (order.get(c.kind, 9), c.customer_id))
    for c in rows[: show or None]:
        table.add_row(c.customer_id, c.kind, where(c.old_date, c.old_rep, c.old_start),
                      where(c.new_date, c.new_rep, c.new_start), c.cause, escape(c.detail))
    console.print(table)
    if show and len(rows) > show:
        console.print(f"… {len(rows) - show} more (use --show 0 for all)")
    console.print("By kind and cause: " + ", ".join(f"{k} {c}: {n}" for (k, c), n in sorted(counts.items())),
                  highlight=False)


def lock_cmd(plan_id: str = typer.Argument("latest", help="plan id or 'latest'"),
             customer: str = typer.Option(..., help="customer id"),
             date: str = typer.Option(..., help="appointment day YYYY-MM-DD"),
             rep: Optional[str] = typer.Option(None, help="rep who makes the visit (default: the account owner)"),
             at: Optional[str] = typer.Option(None, help="exact start time HH:MM"),
             window: Optional[str] = typer.Option(None, help="start window HH:MM-HH:MM")) -> None:
    """Fix an appointment on a plan: the visit happens that day (and time); re-plans never move it."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import PlanNotFound, add_lock, load_absences, load_plan, load_region
    from planner.domain import Lock, parse_hhmm, parse_windows
    from planner.pipeline.replan import lock_problem
    day = _date(date, "--date")
    with _session() as s:
        try:
            plan = load_plan(s, plan_id)
        except PlanNotFound as e:
            _fail(str(e))
        region = load_region(s)
        try:
            lock = Lock(customer, day, rep, parse_hhmm(at) if at else None,
                        (parse_windows(window) or (None,))[0] if window else None)
        except DomainError as e:
            _fail(str(e))
        problem = lock_problem(region, plan, lock, load_absences(s))
        if problem:
            _fail(problem)
        if lock.rep_id is None:  # the account owner makes the visit (pinned rep, or the plan's)
            owner = next((c.rep_id for c in region.customers if c.id == lock.customer_id), None) or \
                plan.assignment.get(lock.customer_id)
            lock = Lock(lock.customer_id, lock.date, owner, lock.at, lock.window)
        lock_id = add_lock(s, plan.plan_id, lock)
        s.commit()
    console.print(f"lock {lock_id}: {lock.describe()} on plan {plan.plan_id}. Apply it with "
                  f"`planner replan {plan.plan_id} --from {min(day, max(plan.start, dt.date.today()))}`.",
                  highlight=False)


def locks_cmd(plan_id: str = typer.Argument("latest", help="plan id or 'latest'")) -> None:
    """List the fixed appointments of a plan."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import PlanNotFound, list_locks, resolve_plan_id
    with _session() as s:
        try:
            pid = resolve_plan_id(s, plan_id)
        except PlanNotFound as e:
            _fail(str(e))
        rows = list_locks(s, pid)
    table = Table("id", "customer", "date", "rep", "time", title=f"locks of plan {pid}")
    for lid, lk in rows:
        win = lk.start_window
        t = "" if win is None else (f"{win[0] // 60:02d}:{win[0] % 60:02d}" +
                                    (f"-{win[1] // 60:02d}:{win[1] % 60:02d}" if win[1] != win[0] else ""))
        table.add_row(str(lid), lk.customer_id, str(lk.date), lk.rep_id or "", t)
    console.print(table)


def unlock_cmd(plan_id: str = typer.Argument(..., help="plan id or 'latest'"),
               lock_id: int = typer.Argument(..., help="lock id (see `planner locks`)")) -> None:
    """Remove a fixed appointment from a plan."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import PlanNotFound, delete_lock, resolve_plan_id
    with _session() as s:
        try:
            pid = resolve_plan_id(s, plan_id)
        except PlanNotFound as e:
            _fail(str(e))
        if not delete_lock(s, pid, lock_id):
            _fail(f"plan {pid} has no lock {lock_id}")
        s.commit()
    console.print(f"lock {lock_id} removed from plan {pid}")


def unavailable_cmd(rep: str = typer.Argument(..., help="rep id"),
                    from_: str = typer.Option(..., "--from", help="first day away YYYY-MM-DD"),
                    to: Optional[str] = typer.Option(None, "--to", help="last day away (default: --from)"),
                    reason: Optional[str] = typer.Option(None, help="why (ill, leave, training…)")) -> None:
    """Record a rep absence: no visits those days in plans and re-plans made from now on."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import PlanNotFound, add_absence, load_plan, load_reps
    from planner.domain import Absence
    start = _date(from_, "--from")
    end = _date(to, "--to") if to else start
    try:
        absence = Absence(rep, start, end, reason)
    except DomainError as e:
        _fail(str(e))
    with _session() as s:
        if rep not in {r.id for r in load_reps(s)}:
            _fail(f"no rep {rep!r}")
        aid = add_absence(s, absence)
        s.commit()
        try:
            latest = load_plan(s, "latest")
        except PlanNotFound:
            latest = None
    console.print(f"absence {aid}: rep {rep} away {start}..{end}", highlight=False)
    if latest is not None:
        hit = [r for r in latest.routes if r.rep_id == rep and start <= r.date <= end and r.stops]
        if hit:
            n = sum(len(r.stops) for r in hit)
            console.print(f"The latest plan {latest.plan_id} has {n} visit(s) of {rep} on those days: "
                          f"`planner replan latest --from {max(latest.start, min(r.date for r in hit))}` "
                          "moves them.", highlight=False)


def absences_cmd(rep: Optional[str] = typer.Option(None, help="only this rep's"),
                 remove: Optional[int] = typer.Option(None, help="remove the absence with this id")) -> None:
    """List rep absences (or remove one with --remove ID)."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import delete_absence, list_absences
    with _session() as s:
        if remove is not None:
            if not delete_absence(s, remove):
                _fail(f"no absence {remove}")
            s.commit()
            console.print(f"absence {remove} removed")
            return
        rows = list_absences(s, rep)
    table = Table("id", "rep", "from", "to", "reason", title="absences")
    for aid, a in rows:
        table.add_row(str(aid), a.rep_id, str(a.start), str(a.end), a.reason or "")
    console.print(table)


def explain_cmd(plan_id: str = typer.Argument("latest", help="plan id or 'latest'"),
                customer: Optional[str] = typer.Option(None, help="explain this customer's rep and days"),
                as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
                policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Why a plan is as it is: unplanned visits with their reasons, per rep figures, or for one
    customer why this rep and these days, with the cost of the alternatives."""
    from planner.cli import _fail, _session, console
    from planner.db.repository import plan_changes
    from planner.geo.providers import make_travel
    from planner.pipeline.explain import ExplainError, explain_customer, explain_plan
    from planner.settings import get_settings
    with _session() as s:
        plan, region, absences = _plan_and_facts(s, plan_id, policy)
        changes = plan_changes(s, plan.plan_id)
    if customer is None:
        exp = explain_plan(region, plan)
        if as_json:
            out = exp.as_dict()
            out["changes"] = changes
            typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
            return
        console.print(f"Plan {plan.plan_id} ({plan.start}..{plan.end})"
                      + (f", re-planned from {plan.parent_id} on {plan.frozen_before}" if plan.parent_id else ""))
        reps = Table("rep", "customers", "visits", "days", "hours", "km", title="reps")
        for r in exp.reps:
            reps.add_row(r["rep_id"], str(r["customers"]), str(r["visits"]), str(r["days"]), str(r["hours"]),
                         str(r["km"]))
        console.print(reps)
        if exp.unplanned:
            t = Table("customer", "date", "code", "reason", title=f"{len(exp.unplanned)} unplanned visit(s)")
            for u in exp.unplanned:
                t.add_row(u["customer_id"], u["date"] or "", u["code"], escape(u["reason"]))
            console.print(t)
        else:
            console.print("Every required visit is planned.")
        if changes:
            console.print("Changes against the previous plan: " + ", ".join(
                f"{k} {c}: {n}" for (k, c), n in sorted(Counter((x["kind"], x["cause"]) for x in changes).items())),
                highlight=False)
        return
    try:
        exp_c = explain_customer(region, plan, customer, travel=make_travel(get_settings()), absences=absences)
    except ExplainError as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(exp_c.as_dict(), ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{exp_c.customer_id}[/] {escape(exp_c.name)}: grade {exp_c.grade}, {exp_c.frequency}, "
                  f"{exp_c.visit_minutes} min visits — {exp_c.status}")
    console.print(f"Rep: {exp_c.rep_id or '-'}: {escape(exp_c.why_rep)}", highlight=False)
    console.print(f"Days: {', '.join(f'{d:%a} {d}' for d in exp_c.dates) or '-'}: {escape(exp_c.why_days)}",
                  highlight=False)
    for u in exp_c.unplanned:
        console.print(f"Unplanned {u['date'] or ''}: \\[{u['code']}] {escape(u['reason'])}", highlight=False)
    if exp_c.alternatives:
        t = Table("rep", "days", "extra cost", title="options priced on the plan's routes")
        for a in exp_c.alternatives:
            t.add_row(a.rep_id or "any", ", ".join(f"{d:%a %d}" for d in a.dates) or "(none due)",
                      "current" if a.current else ("does not fit" if a.extra_cost is None else f"{a.extra_cost:+.2f}"))
        console.print(t)
    if changes:
        mine = [x for x in changes if x["customer_id"] == customer]
        for x in mine:
            console.print(f"Changed in this re-plan: {x['kind']} {x.get('old_date') or ''} → {x.get('new_date') or ''}"
                          f" ({x['cause']}: {escape(x['detail'])})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the re-planning commands to the ``planner`` app."""
    app.command("replan")(replan_cmd)
    app.command("lock")(lock_cmd)
    app.command("locks")(locks_cmd)
    app.command("unlock")(unlock_cmd)
    app.command("unavailable")(unavailable_cmd)
    app.command("absences")(absences_cmd)
    app.command("explain")(explain_cmd)
