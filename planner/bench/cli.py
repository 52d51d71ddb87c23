"""``planner bench vrptw|pvrp INSTANCE --time-limit S [--seed N] --out SOL.json`` (pvrp also
``[--days-from REF.res]``)."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

bench_app = typer.Typer(help="Solve research benchmark instances with the planner's engine.", no_args_is_help=True)
console = Console(soft_wrap=True)  # (paths and messages on one line, whatever the width)


def _run(kind: str, instance: Path, time_limit: float, seed: int, out: Path, deterministic: bool,
         days_from: Path | None = None) -> None:
    from planner.bench.instances import InstanceError
    from planner.bench.run import solve_instance, write_solution
    from planner.pipeline import PlanRejected
    for path in (instance, days_from):
        if path is not None and not path.exists():
            console.print(f"[red]error:[/] {path}: no such file")
            raise typer.Exit(1)
    try:
        sol, res = solve_instance(kind, instance, time_limit=time_limit, seed=seed, deterministic=deterministic,
                                  days_from=days_from)
    except (InstanceError, PlanRejected) as e:
        console.print(f"[red]error:[/] {e}", highlight=False)
        raise typer.Exit(2)
    write_solution(sol, out)
    if sol.get("free_days"):
        console.print(f"not in {days_from.name}, patterns kept: customers {sol['free_days']}", highlight=False)
    n_routes = len(sol["routes"])
    console.print(f"{instance.name}: cost {sol['cost']:.2f}, {n_routes} routes, "
                  f"{len(sol['unassigned'])} unplanned, {res.stats.get('seconds')} s -> {out}", highlight=False)


@bench_app.command("vrptw")
def vrptw(instance: Path, time_limit: float = typer.Option(10.0, min=0.1), seed: int = typer.Option(1),
          out: Path = typer.Option(...), deterministic: bool = typer.Option(False)) -> None:
    """A Solomon VRPTW instance (travel time = Euclidean distance, at most its vehicles)."""
    _run("vrptw", instance, time_limit, seed, out, deterministic)


@bench_app.command("pvrp")
def pvrp(instance: Path, time_limit: float = typer.Option(60.0, min=0.1), seed: int = typer.Option(1),
         out: Path = typer.Option(...), deterministic: bool = typer.Option(False),
         days_from: Path | None = typer.Option(None, help="a reference solution (.res) whose days each customer "
                                                 "is held to: measures the routing alone")) -> None:
    """A Cordeau periodic VRP instance (explicit visit-day patterns, m vehicles a day)."""
    _run("pvrp", instance, time_limit, seed, out, deterministic, days_from)
