"""``planner bench vrptw|pvrp INSTANCE --time-limit S [--seed N] --out SOL.json``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

bench_app = typer.Typer(help="Solve research benchmark instances with the planner's engine.", no_args_is_help=True)
console = Console()


def _run(kind: str, instance: Path, time_limit: float, seed: int, out: Path, deterministic: bool) -> None:
    from planner.bench.instances import InstanceError
    from planner.bench.run import solve_instance, write_solution
    from planner.pipeline import PlanRejected
    if not instance.exists():
        console.print(f"[red]error:[/] {instance}: no such file")
        raise typer.Exit(1)
    try:
        sol, res = solve_instance(kind, instance, time_limit=time_limit, seed=seed, deterministic=deterministic)
    except (InstanceError, PlanRejected) as e:
        console.print(f"[red]error:[/] {e}", highlight=False)
        raise typer.Exit(2)
    write_solution(sol, out)
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
         out: Path = typer.Option(...), deterministic: bool = typer.Option(False)) -> None:
    """A Cordeau periodic VRP instance (explicit visit-day patterns, m vehicles a day)."""
    _run("pvrp", instance, time_limit, seed, out, deterministic)
