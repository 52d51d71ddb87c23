"""The ``planner`` command line: import, plan, export, maps, demo.

Everything reads and writes the database at ``PLANNER_DATABASE_URL`` (an SQLite file in the
working directory by default).
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from planner.domain import DomainError, Plan, VisitPolicy
from planner.settings import get_settings

app = typer.Typer(help="Field-visit route planner: periodic visit plans for sales reps.",
                  no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import customers or reps from CSV/XLSX (upsert by id, all-or-nothing).",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console()
REPO_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hangzhou"


@contextmanager
def _session() -> Iterator[Session]:
    from planner.db.session import init_db, make_engine, make_session_factory
    engine = make_engine()
    init_db(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        yield session
    engine.dispose()


def _policy(path: Optional[Path]) -> VisitPolicy:
    from planner.policy import load_policy
    return load_policy(path or get_settings().policy_file)


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _do_import(kind: str, path: Path, skip_bad_rows: bool, policy: Optional[Path]) -> None:
    from planner.io.errors import TableError
    from planner.io.service import ImportRejected, import_customers, import_reps
    if not path.exists():
        _fail(f"{path}: no such file")
    try:
        with _session() as s:
            if kind == "customers":
                summary = import_customers(s, path, _policy(policy), skip_bad_rows=skip_bad_rows,
                                           geocode_cache=get_settings().geocode_cache)
            else:
                summary = import_reps(s, path, skip_bad_rows=skip_bad_rows)
    except ImportRejected as e:
        _fail(str(e), 2)
    except (TableError, DomainError) as e:
        _fail(f"{path}: {e}", 2)
    console.print(f"{kind}: {summary}", highlight=False)


@import_app.command("customers")
def import_customers_cmd(path: Path, skip_bad_rows: bool = typer.Option(False, help="import the good rows, list the bad"),
                         policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Import customers (id,name,address,lat,lon,grade,frequency,visit_minutes,open,rep_id,active)."""
    _do_import("customers", path, skip_bad_rows, policy)


@import_app.command("reps")
def import_reps_cmd(path: Path, skip_bad_rows: bool = typer.Option(False, help="import the good rows, list the bad")) -> None:
    """Import reps (id,name,start_lat,start_lon,end_lat,end_lon,work_start,work_end,workdays,...)."""
    _do_import("reps", path, skip_bad_rows, None)


def _summary_table(plan: Plan, names: dict[str, str], by_day: bool) -> Table:
    from planner.evaluation.kpis import rep_kpis, route_kpis
    table = Table(title=f"Plan {plan.plan_id}: {plan.start} .. {plan.end}")
    for col in ("rep", "date" if by_day else "days", "visits", "km", "drive h", "work h", "cost"):
        table.add_column(col, justify="left" if col in ("rep", "date") else "right")
    reps = rep_kpis(plan)
    for rep_id, tot in reps.items():
        if by_day:
            for r in plan.routes:
                if r.rep_id == rep_id and r.stops:
                    k = route_kpis(r)
                    table.add_row(f"{rep_id} {names.get(rep_id, '')}", f"{r.date} {r.date:%a}", str(k.visits),
                                  f"{k.distance_km:.1f}", f"{k.drive_hours:.2f}", f"{k.work_hours:.2f}", f"{k.cost:.2f}")
        table.add_row(f"[bold]{rep_id} total", "" if by_day else str(tot["days"]), f"[bold]{tot['visits']}",
                      f"[bold]{tot['distance_km']:.1f}", f"{tot['drive_hours']:.2f}", f"{tot['work_hours']:.2f}",
                      f"[bold]{tot['cost']:.2f}", end_section=by_day)
    return table


def _print_summary(plan: Plan, kpis: dict, names: dict[str, str], by_day: bool) -> None:
    console.print(_summary_table(plan, names, by_day))
    console.print(
        f"[bold]Totals[/]: {kpis['visits']} visits of {kpis['required_visits']} required "
        f"(compliance {kpis['compliance'] * 100:.1f}%), {kpis['distance_km']:.1f} km "
        f"({kpis['km_per_visit']:.2f} km/visit), {kpis['drive_hours']:.1f} drive h, "
        f"{kpis['work_hours']:.1f} work h, cost {kpis['cost']:.2f}", highlight=False)
    if plan.unassigned:
        console.print(f"[yellow]{len(plan.unassigned)} unplanned visit(s):[/]")
        for u in plan.unassigned[:20]:
            console.print(f"  {u.customer_id} {u.date or ''} [{u.code}] {u.reason}", highlight=False)
        if len(plan.unassigned) > 20:
            console.print(f"  … and {len(plan.unassigned) - 20} more (see the export)")


def _next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


def _solver(workers: int):
    """``plan_region`` for one worker; else the decomposed plan on a local process pool of
    ``workers`` or, with ``PLANNER_BROKER_URL`` set, on the Celery workers."""
    import functools

    from planner.pipeline import plan_region
    from planner.pipeline.decompose import plan_region_parallel
    if workers == 1:
        return plan_region
    executor = None
    if get_settings().broker_url:
        try:
            from planner.jobs.celery_app import CeleryExecutor, make_celery
        except ImportError:
            _fail("PLANNER_BROKER_URL is set but Celery is not installed: pip install 'field-visit-planner[celery]'")
        executor = CeleryExecutor(make_celery())
    return functools.partial(plan_region_parallel, workers=workers, executor=executor)


def _run_plan(start: dt.date, weeks: int, time_limit: float, seed: int, reps: Optional[str],
              policy: Optional[Path], summary: str, deterministic: bool = False, balance_days: bool = True,
              workers: int = 1) -> str:
    from planner.db.repository import PlanNotFound, load_absences, load_plan, load_region, save_plan
    from planner.api.services import frequency_debt
    from planner.geo.errors import TravelError
    from planner.geo.providers import explain_travel_error, make_travel
    from planner.pipeline import PlanRejected, last_visits_before
    from planner.pipeline.decompose import PartFailed
    settings = get_settings()
    with _session() as s:
        region = load_region(s, _policy(policy))
        try:  # spacing continues from the latest plan that started before this one
            previous = load_plan(s, "latest")
            last = last_visits_before(previous, start) if previous.start < start else None
        except PlanNotFound:
            last = None
        if not region.customers:
            _fail("no customers: run `planner import customers FILE` first")
        if not region.reps:
            _fail("no reps: run `planner import reps FILE` first")
        with Progress(TextColumn("[bold]{task.description:<12}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("planning", total=1.0)
            try:
                result = _solver(workers)(region, start, weeks, time_limit=time_limit, seed=seed,
                                     travel=make_travel(settings),
                                     rep_ids=reps.split(",") if reps else None, deterministic=deterministic,
                                     last_visits=last, balance_days=balance_days, absences=load_absences(s),
                                     priority=frequency_debt(s, start),
                                     progress=lambda stage, frac: bar.update(task, completed=frac, description=stage))
            except PlanRejected as e:
                _fail(f"{e}\nThe plan was not stored (this is a bug in the engine; please report it).", 3)
            except TravelError as e:
                _fail(f"travel ({settings.travel}): {explain_travel_error(e, region)}")
            except PartFailed as e:
                _fail(f"{e}\nThe plan was not stored.")
        plan_id = save_plan(s, result.plan, result.evaluation.kpis)
        s.commit()
    names = {r.id: r.name for r in region.reps}
    by_day = summary == "days" or (summary == "auto" and len(result.plan.routes) <= 200)
    _print_summary(result.plan, result.evaluation.kpis, names, by_day)
    console.print(f"Evaluator: all rules kept ({len(result.evaluation.violations)} violations). "
                  f"Solved in {result.stats.get('seconds')} s.", highlight=False)
    console.print(f"plan id: {plan_id}")
    return plan_id


@app.command()
def plan(start: Optional[str] = typer.Option(None, help="first day YYYY-MM-DD (default: next Monday)"),
         weeks: int = typer.Option(4, min=1, max=26, help="weeks to plan"),
         time_limit: float = typer.Option(60.0, min=1.0, help="seconds of search"),
         seed: int = typer.Option(1, help="random seed (same input + seed → same plan)"),
         reps: Optional[str] = typer.Option(None, help="plan only these reps (comma-separated ids)"),
         policy: Optional[Path] = typer.Option(None, help="visit policy TOML"),
         summary: str = typer.Option("auto", help="summary rows: days, reps or auto"),
         deterministic: bool = typer.Option(False, help="end searches by counts, not the clock: same input + seed "
                                                        "→ same plan on any machine"),
         balance_days: bool = typer.Option(True, help="keep each rep's days near its average day (the rules' "
                                                      "balanced workloads); --no-balance-days packs visits into "
                                                      "fewer, longer days when cheaper"),
         workers: Optional[int] = typer.Option(None, min=1, help="parts planned at a time: the region is split by "
                                               "territory and the parts solved by a local process pool of N "
                                               "(default: PLANNER_PLAN_WORKERS or the cores; 1: in one piece, in this "
                                               "process); with PLANNER_BROKER_URL set, by the Celery workers")) -> None:
    """Plan the visits of all active customers; print a summary and store the plan."""
    from planner.pipeline.decompose import default_workers
    try:
        day = dt.date.fromisoformat(start) if start else _next_monday()
    except ValueError:
        _fail(f"bad --start {start!r}, expected YYYY-MM-DD")
    _run_plan(day, weeks, time_limit, seed, reps, policy, summary, deterministic, balance_days,
              workers or get_settings().plan_workers or default_workers())


def _load(plan_id: str, policy: Optional[Path]):
    from planner.db.repository import PlanNotFound, load_plan, load_region
    with _session() as s:
        try:
            p = load_plan(s, plan_id)
        except PlanNotFound as e:
            _fail(str(e))
        return p, load_region(s, _policy(policy))


@app.command()
def export(plan_id: str = typer.Argument("latest", help="plan id or 'latest'"),
           format: str = typer.Option("json", "--format", "-f", help="json, csv, xlsx, ics or geojson"),
           out: Path = typer.Option(..., help="file to write (a directory for ics)"),
           policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Export a stored plan."""
    from planner.export import FORMATS, export_plan
    if format.lower() not in FORMATS:
        _fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    p, region = _load(plan_id, policy)
    for f in export_plan(p, region, format, out):
        console.print(f"wrote {f}", highlight=False)


@app.command("maps")
def maps_cmd(plan_id: str = typer.Argument("latest", help="plan id or 'latest'"),
             out: Path = typer.Option(Path("maps"), help="output directory"),
             lang: str = typer.Option("zh", help="labels: zh or en"),
             policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Write the region map and one map per rep per day (HTML).

    With PLANNER_TRAVEL=osm:PATH, osrm:URL or valhalla:URL each leg of a route follows the roads;
    with haversine, and for a leg the provider cannot draw, the line is straight."""
    from rich.markup import escape

    from maps import LANGS, write_maps
    from planner.geo.errors import TravelError
    from planner.geo.geometry import has_leg_geometry, route_legs
    from planner.geo.providers import make_travel
    if lang not in LANGS:
        _fail(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    p, region = _load(plan_id, policy)
    settings = get_settings()
    legs = None
    try:
        travel = make_travel(settings)
    except TravelError as e:
        console.print(f"[yellow]routes drawn straight:[/yellow] {escape(str(e))}", highlight=False)
    else:
        if has_leg_geometry(travel):
            legs = route_legs(p, region, travel)
            drawn = sum(len(v) for v in legs.values())
            note = f", {legs.failed} of them straight (the provider failed, see the warnings)" if legs.failed else ""
            console.print(escape(f"road geometry of {drawn} legs from {settings.travel}{note}"), highlight=False)
    files = write_maps(region, p, out, lang=lang, legs=legs)
    console.print(f"wrote {len(files)} map files to {out}/ (open {out / 'index.html'})", highlight=False)


@app.command("plans")
def plans_cmd() -> None:
    """List stored plans."""
    from planner.db.repository import list_plans
    with _session() as s:
        rows = list_plans(s)
    table = Table("plan id", "created", "start", "weeks", "visits", "km", "cost")
    for r in rows:
        k = r.get("kpis") or {}
        table.add_row(r["plan_id"], str(r["created_at"]), str(r["start"]), str(r["weeks"]),
                      str(k.get("visits", "")), str(k.get("distance_km", "")), str(k.get("cost", "")))
    console.print(table)


@app.command()
def demo(time_limit: float = typer.Option(30.0, min=1.0, help="seconds of search"),
         weeks: int = typer.Option(4, min=1, max=26),
         start: Optional[str] = typer.Option(None, help="first day (default: next Monday)"),
         fixture: Path = typer.Option(REPO_FIXTURE, help="folder with customers.csv and reps.csv"),
         out: Path = typer.Option(Path("maps"), help="where maps go"),
         lang: str = typer.Option("zh", help="map labels: zh or en")) -> None:
    """Import the bundled fixture region, plan it, export plan.json and write the maps."""
    for kind in ("reps", "customers"):
        _do_import(kind, fixture / f"{kind}.csv", False, None)
    day = dt.date.fromisoformat(start) if start else _next_monday()
    plan_id = _run_plan(day, weeks, time_limit, 1, None, None, "auto")
    export(plan_id, "json", out / "plan.json", None)
    maps_cmd(plan_id, out, lang, None)


def _pct(load: Optional[float]) -> str:
    return "∞" if load is None else f"{load * 100:.0f}%"


def _print_capacity(report) -> None:
    """Rich tables of a :class:`planner.scheduling.capacity.CapacityReport`."""
    from rich.markup import escape
    base = report.base
    table = Table(title=f"Capacity {report.start} .. {report.start + dt.timedelta(days=7 * report.weeks - 1)}: "
                        "required h (visits + estimated driving) / available h, load")
    table.add_column("rep")
    for w in base.week_totals:
        table.add_column(f"week {w.week + 1}\n{w.week_start}", justify="right")
    table.add_column("horizon", justify="right")
    for rid in base.rep_ids:
        rows = [w for w in base.rep_weeks if w.rep_id == rid]
        cells = []
        for w in rows:
            text = f"{w.required_hours:.1f} / {w.available_hours:.1f} {_pct(w.load)}"
            if w.over_hours > 0:
                text = f"[bold red]{text}[/]"
            if w.max_visits is not None and w.visits > w.max_visits:
                text += f"\n[bold red]{w.visits} visits > cap {w.max_visits}[/]"
            if w.absent_days:
                text += f"\n({w.absent_days} day(s) away)"
            cells.append(text)
        req, avail = sum(w.required_hours for w in rows), sum(w.available_hours for w in rows)
        cells.append(f"{req:.1f} / {avail:.1f} {_pct(req / avail if avail else None)}")
        table.add_row(rid, *cells)
    req = sum(t.required_hours for t in base.week_totals)
    avail = sum(t.available_hours for t in base.week_totals)
    table.add_row("[bold]region", *[f"[bold]{t.required_hours:.1f} / {t.available_hours:.1f} {_pct(t.load)}"
                                    for t in base.week_totals],
                  f"[bold]{req:.1f} / {avail:.1f} {_pct(req / avail if avail else None)}", end_section=True)
    console.print(table)
    grades = Table(title="By grade: customers, visits and hours required per week and over the horizon (driving "
                         "attributed by each stop's detour); customers no rep can serve")
    for col in ("grade", "cust", "visits/wk", "visit h/wk", "drive h/wk", "visits", "hours", "no rep"):
        grades.add_column(col, justify="left" if col == "grade" else "right")
    for g in base.grades:
        grades.add_row(g.grade, str(g.customers), " ".join(str(v) for v in g.visits_per_week),
                       " ".join(f"{h:.1f}" for h in g.visit_hours_per_week),
                       " ".join(f"{h:.1f}" for h in g.travel_hours_per_week),
                       str(g.visits), f"{g.hours:.1f}", str(g.unservable) if g.unservable else "")
    console.print(grades)
    findings = base.findings()
    if findings:
        console.print("[bold red]Over capacity / cannot be served:[/]")
        for f in findings:
            console.print(f"  • {escape(f)}", highlight=False)
    else:
        s = base.summary
        console.print(f"[bold green]Everything fits[/]: {s.required_hours:.1f} h required of {s.available_hours:.1f} h "
                      f"available; the busiest rep-week is at {_pct(s.max_load)}.", highlight=False)
    for wi in report.what_ifs:
        t = Table(title=f"What if: {escape(wi.description)}")
        for col in ("", "before", "after"):
            t.add_column(col, justify="left" if not col else "right")
        b, a = wi.before, wi.after
        t.add_row("available h", f"{b.available_hours:.1f}", f"{a.available_hours:.1f}")
        t.add_row("required h (visits + driving)", f"{b.required_hours:.1f} ({b.visit_hours:.1f} + {b.travel_hours:.1f})",
                  f"{a.required_hours:.1f} ({a.visit_hours:.1f} + {a.travel_hours:.1f})")
        t.add_row("rep-weeks over capacity", str(b.overloaded_rep_weeks), str(a.overloaded_rep_weeks))
        t.add_row("hours over capacity", f"{b.over_hours:.1f}", f"{a.over_hours:.1f}")
        t.add_row("visits over the visit caps", str(b.visits_over_caps), str(a.visits_over_caps))
        t.add_row("region over capacity h", f"{b.region_over_hours:.1f}", f"{a.region_over_hours:.1f}")
        t.add_row("busiest rep-week", _pct(b.max_load), _pct(a.max_load))
        t.add_row("customers no rep can serve", str(b.unservable), str(a.unservable))
        for rid, (x, y) in wi.rep_over_hours(base).items():
            if x > 0 or y > 0:
                t.add_row(f"  {rid}: hours over", f"{x:.1f}", f"{y:.1f}")
        for a_rep in wi.added_reps:
            t.add_row(f"  {a_rep.rep_id}: added near {a_rep.near_rep_id}", "",
                      f"{a_rep.lat:.5f}, {a_rep.lon:.5f}")
        console.print(t)


@app.command("check")
def check_cmd(start: Optional[str] = typer.Option(None, help="first day YYYY-MM-DD (default: next Monday)"),
              weeks: int = typer.Option(4, min=1, max=26, help="weeks to check"),
              reps: Optional[str] = typer.Option(None, help="check only these reps (comma-separated ids)"),
              what_if_reps: int = typer.Option(0, min=0, max=20, help="what if N more reps like the average rep "
                                                                      "worked from the most overloaded territories"),
              what_if_frequency: Optional[list[str]] = typer.Option(
                  None, help="what if GRADE=FREQUENCY, e.g. C=1/3weeks (repeatable)"),
              as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
              policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Capacity pre-check before solving: required visit hours + estimated driving per rep and
    week against available hours (absences deducted), by grade, with what-ifs.

    Exit code 0 when everything fits; 2 when a rep-week is over capacity (hours or visit cap)
    or a customer cannot be served by any rep; 1 for bad input.
    """
    import json

    from planner.db.repository import PlanNotFound, load_absences, load_plan, load_region
    from planner.geo.errors import TravelError
    from planner.geo.providers import make_travel
    from planner.pipeline import last_visits_before
    from planner.scheduling.capacity import capacity_check, parse_frequency_override
    try:
        day = dt.date.fromisoformat(start) if start else _next_monday()
    except ValueError:
        _fail(f"bad --start {start!r}, expected YYYY-MM-DD")
    if day > dt.date.max - dt.timedelta(days=7 * weeks):
        _fail(f"--start {start} is too late")
    overrides = {}
    try:
        for text in what_if_frequency or []:
            grade, freq = parse_frequency_override(text)
            overrides[grade] = freq
        visit_policy = _policy(policy)
    except DomainError as e:
        _fail(str(e))
    unknown = [g for g in overrides if g not in visit_policy.rules]
    if unknown:
        _fail(f"--what-if-frequency: unknown grade(s) {', '.join(unknown)}; the policy has "
              f"{', '.join(visit_policy.grades)}")
    rep_ids = [r.strip() for r in reps.split(",") if r.strip()] if reps else None
    with _session() as s:
        region = load_region(s, visit_policy)
        absences = load_absences(s)
        try:  # visit days continue the spacing of the latest plan, as `planner plan` does
            previous = load_plan(s, "latest")
            last = last_visits_before(previous, day) if previous.start < day else None
        except PlanNotFound:
            last = None
    if not any(c.active for c in region.customers):
        _fail("no active customers: run `planner import customers FILE` first")
    if not region.reps:
        _fail("no reps: run `planner import reps FILE` first")
    if rep_ids is not None:
        missing = sorted(set(rep_ids) - {r.id for r in region.reps})
        if missing or not rep_ids:
            _fail(f"--reps: unknown rep id(s) {', '.join(missing)}" if missing else "--reps: no rep ids given")
    settings = get_settings()
    try:
        report = capacity_check(region, day, weeks, travel=make_travel(settings),
                                absences=absences, rep_ids=rep_ids, frequency_overrides=overrides or None,
                                extra_reps=what_if_reps, last_visits=last)
    except (DomainError, ValueError, TravelError) as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_capacity(report)
    if not report.fits:
        raise typer.Exit(2)


@app.command("worker")
def worker_cmd(concurrency: Optional[int] = typer.Option(None, min=1, help="parts planned at the same time by this "
                                                         "worker (processes; default: the cores)"),
               name: Optional[str] = typer.Option(None, help="worker name (default: planner-PID@HOST)"),
               loglevel: str = typer.Option("info", help="debug, info, warning or error")) -> None:
    """Start a Celery worker for plan jobs and their parts (needs PLANNER_BROKER_URL and the
    same PLANNER_DATABASE_URL as the server)."""
    settings = get_settings()
    if not settings.broker_url:
        _fail("PLANNER_BROKER_URL is not set: a worker needs the Celery broker, e.g. "
              "PLANNER_BROKER_URL=redis://127.0.0.1:6379/0 planner worker", 2)
    try:
        from planner.api.celery_jobs import make_worker_app
        from planner.jobs.celery_app import run_worker
    except ImportError as e:
        _fail(f"Celery is not installed ({e.name}): pip install 'field-visit-planner[celery]'", 2)
    run_worker(make_worker_app(settings), concurrency=concurrency, name=name, loglevel=loglevel)


@app.command("territories")
def territories_cmd(reps_file: Optional[Path] = typer.Option(None, help="import/update these reps first and make "
                                                            "territories for them only (default: all stored reps)"),
                    balance: str = typer.Option("hours", help="balance 'hours' (visit + routed driving) or 'visits'"),
                    keep_existing: bool = typer.Option(False, help="start from the current owners (those set by an "
                                                                   "earlier --apply, else the latest plan's) and "
                                                                   "change as few as balance allows"),
                    start: Optional[str] = typer.Option(None, help="first day YYYY-MM-DD of the horizon the "
                                                                   "workloads are estimated on (default: next Monday)"),
                    weeks: int = typer.Option(4, min=1, max=26, help="weeks of that horizon"),
                    tolerance: float = typer.Option(0.03, min=0.005, max=0.5, help="workload band: ±share of the "
                                                                                   "rep's fair share"),
                    apply: bool = typer.Option(False, "--apply", help="store the territories as account owners "
                                                                      "(rep_id) of the customers the CRM did not pin"),
                    map_out: Optional[Path] = typer.Option(None, "--map", help="write a map of the territories (HTML)"),
                    lang: str = typer.Option("zh", help="map labels: zh or en"),
                    record: Optional[Path] = typer.Option(None, help="record of the owners set by --apply (default: "
                                                                     "next to the SQLite file)"),
                    as_json: bool = typer.Option(False, "--json", help="print the territories as JSON"),
                    policy: Optional[Path] = typer.Option(None, help="visit policy TOML")) -> None:
    """Territories: customers to reps with balanced weekly workloads (visit hours + routed
    driving, or visits), compact areas, the CRM's pins kept.

    Prints per rep: customers, visits, visit and driving hours a week (driving of day tours by
    nearest neighbour + 2-opt), the deviation from the rep's fair share (by working hours) and
    compactness; the largest deviation and, with --keep-existing, the share of owners kept.
    --apply writes the owners; the planner's own owners are recorded (--record) so that a later
    --keep-existing run may change them, never the CRM's.
    """
    import dataclasses
    import json

    from rich.markup import escape

    from planner.db.repository import PlanNotFound, load_plan, load_region
    from planner.geo.errors import TravelError
    from planner.geo.providers import make_travel
    from planner.io.reps import parse_reps
    from planner.io.territory_state import (TerritoryRecordError, apply_territories, load_record, record_path,
                                            release_planner_owners)
    from planner.scheduling.territory_design import BALANCE_MODES, design_territories
    if balance not in BALANCE_MODES:
        _fail(f"--balance must be one of {', '.join(BALANCE_MODES)}, not {balance!r}")
    try:
        day = dt.date.fromisoformat(start) if start else _next_monday()
    except ValueError:
        _fail(f"bad --start {start!r}, expected YYYY-MM-DD")
    if map_out is not None:
        from maps import LANGS
        if lang not in LANGS:
            _fail(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    rep_ids = None
    if reps_file is not None:
        _do_import("reps", reps_file, False, None)
        rep_ids = [r.id for r in parse_reps(reps_file).items]
    settings = get_settings()
    path = record or record_path(settings.database_url)
    try:
        visit_policy = _policy(policy)
    except DomainError as e:
        _fail(str(e))
    with _session() as s:
        region = load_region(s, visit_policy)
        try:
            latest = load_plan(s, "latest")
        except PlanNotFound:
            latest = None
    if not any(c.active for c in region.customers):
        _fail("no active customers: run `planner import customers FILE` first")
    if not region.reps:
        _fail("no reps: run `planner import reps FILE` first (or pass --reps-file)")
    try:
        rec = load_record(path, settings.database_url)
    except TerritoryRecordError as e:
        _fail(str(e))
    free_region, planner_owners = release_planner_owners(region, rec)
    previous = None
    if keep_existing:
        free = {c.id for c in free_region.customers if not c.rep_id}
        previous = {cid: rid for cid, rid in (latest.assignment.items() if latest else ()) if cid in free}
        previous.update(planner_owners)
        if not previous:
            console.print("[yellow]--keep-existing: no existing owners (no --apply yet, no plan): "
                          "designing afresh[/]", highlight=False)
    try:
        design = design_territories(free_region, day, weeks, travel=make_travel(settings), balance=balance,
                                    previous=previous, rep_ids=rep_ids, tolerance=tolerance)
    except (DomainError, ValueError, TravelError) as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(design.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_territories(design)
    if map_out is not None:
        from maps import render_region_map
        planned = set(design.assignment.values()) | set(rep_ids or [r.id for r in region.reps])
        shown = dataclasses.replace(free_region, reps=tuple(r for r in region.reps if r.id in planned))
        map_out.parent.mkdir(parents=True, exist_ok=True)
        render_region_map(shown, None, lang, territories=design.assignment).save(str(map_out))
        console.print(escape(f"wrote the territory map to {map_out}"), highlight=False)
    if apply:
        with _session() as s:
            stored = load_region(s, visit_policy).customers
            done = apply_territories(s, path, stored, rec, design.assignment, balance=balance)
        console.print(escape(f"applied: {len(done.written)} owner(s) written, {len(done.cleared)} cleared, "
                             f"{len(done.record.owners)} recorded in {path} (the CRM's pins untouched)"),
                      highlight=False)


def _print_territories(design) -> None:
    """The territory table and summary of ``planner territories``."""
    from rich.markup import escape
    unit = "visits" if design.balance == "visits" else "hours"
    table = Table(title=f"Territories, per week of {design.start} + {design.weeks} week(s), balanced on {unit}")
    for col in ("rep", "cust", "visits", "visit h", "drive h", "total h", "avail h", "dev", "ctr min", "max min",
                "encl", "hull"):
        table.add_column(col, justify="left" if col == "rep" else "right")
    for r in design.reps:
        dev = f"{r.deviation * 100:+.1f}%"
        table.add_row(escape(r.rep_id), str(r.customers), f"{r.visits_per_week:.1f}",
                      f"{r.visit_hours_per_week:.1f}", f"{r.travel_hours_per_week:.1f}", f"{r.hours_per_week:.1f}",
                      f"{r.available_hours_per_week:.1f}",
                      f"[red]{dev}[/]" if abs(r.deviation) > design.tolerance + 1e-9 else dev,
                      f"{r.to_centre_minutes:.1f}", f"{r.to_centre_max_minutes:.1f}", str(r.enclaves),
                      str(r.inside_other))
    console.print(table)
    console.print("drive h: day tours by nearest neighbour + 2-opt; dev: from the rep's share by working hours; "
                  "ctr min: mean drive to the territory's centre; encl: customers in other reps' area; hull: "
                  "customers of others inside the territory's hull", style="dim", highlight=False)
    console.print(f"[bold]max deviation[/] {design.max_deviation * 100:.1f}% of the fair share ({unit}; "
                  f"tolerance ±{design.tolerance * 100:.1f}%); {len(design.assignment)} customers, "
                  f"{len(design.pinned)} pinned by the CRM; {design.enclaves} enclave(s), "
                  f"{design.inside_other} customer(s) inside another territory's hull; {design.seconds:.1f} s",
                  highlight=False)
    if design.kept_share is not None:
        console.print(f"[bold]kept[/] {design.kept_share * 100:.1f}% of the owners ({design.kept} of "
                      f"{design.compared} customers with a previous owner; {len(design.changes)} changed)",
                      highlight=False)
        for cid, old, new in design.changes[:20]:
            console.print(escape(f"  {cid}: {old} -> {new}"), highlight=False)
        if len(design.changes) > 20:
            console.print(f"  … and {len(design.changes) - 20} more (see --json)", highlight=False)
    if design.unservable:
        console.print(f"[yellow]{len(design.unservable)} customer(s) no rep can serve:[/]", highlight=False)
        for cid, code, why in design.unservable[:20]:
            console.print(escape(f"  {cid} [{code}] {why}"), highlight=False)


def _register_bench() -> None:
    from planner.bench.cli import bench_app
    app.add_typer(bench_app, name="bench")


_register_bench()

from planner.api.cli import auth_app, serve  # noqa: E402  (HTTP API: `planner serve`, `planner auth`)
app.add_typer(auth_app, name="auth")
app.command("serve")(serve)

from planner.cli_replan import register as _register_replan  # noqa: E402  (replan, lock, unavailable, explain)
_register_replan(app)

if __name__ == "__main__":  # pragma: no cover
    app()
