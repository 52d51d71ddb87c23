"""``planner serve`` and ``planner auth create-key|revoke|list`` (registered in :mod:`planner.cli`)."""
from __future__ import annotations

from typing import Optional

import typer

auth_app = typer.Typer(help="API keys of the HTTP API (stored hashed; a key is shown once).",
                       no_args_is_help=True)


def _session():
    from planner.db.session import init_db, make_engine, make_session_factory

    engine = make_engine()
    init_db(engine)
    return engine, make_session_factory(engine)


@auth_app.command("create-key")
def create_key_cmd(name: str = typer.Argument(..., help="who or what uses the key, e.g. crm-prod, manager-li, tablet-R01"),
                   role: str = typer.Option(..., "--role", help="crm, manager or rep"),
                   rep_id: Optional[str] = typer.Option(None, "--rep-id", help="the rep of a rep key")) -> None:
    """Make a new API key and print it, alone on the last line. It is not shown again."""
    from sqlalchemy import select

    from planner.api.security import KeyError_, create_key
    from planner.db.models import RepRow

    engine, factory = _session()
    try:
        with factory() as s:
            try:
                key = create_key(s, name, role, rep_id)
            except KeyError_ as e:
                typer.echo(f"error: {e}", err=True)
                raise typer.Exit(2)
            if rep_id and s.scalars(select(RepRow.id).where(RepRow.id == rep_id)).first() is None:
                typer.echo(f"warning: rep {rep_id!r} is not stored (yet); the key will see nothing until it is",
                           err=True)
            s.commit()
    finally:
        engine.dispose()
    typer.echo(f"created {role} key {name!r}" + (f" for rep {rep_id}" if rep_id else "")
               + " - store it now, it is not shown again:")
    typer.echo(key)


@auth_app.command("revoke")
def revoke_cmd(name: str = typer.Argument(..., help="the key's name")) -> None:
    """Revoke the active key(s) with this name: requests with it are refused from now on."""
    from planner.api.security import revoke_key

    engine, factory = _session()
    try:
        with factory() as s:
            n = revoke_key(s, name)
            s.commit()
    finally:
        engine.dispose()
    if not n:
        typer.echo(f"error: no active key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {n} key(s) named {name!r}")


@auth_app.command("list")
def list_cmd() -> None:
    """Key names, roles and state (never the keys)."""
    from planner.api.security import list_keys

    engine, factory = _session()
    try:
        with factory() as s:
            for k in list_keys(s):
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                typer.echo(f"{k.name}\t{k.role}\t{k.rep_id or '-'}\t{state}\tcreated {k.created_at:%Y-%m-%d %H:%M}")
    finally:
        engine.dispose()


def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8000, min=1, max=65535, help="port"),
          log_level: str = typer.Option("info", help="uvicorn log level")) -> None:
    """Run the HTTP API (uvicorn) on PLANNER_DATABASE_URL. Docs at /docs, schema at /openapi.json."""
    import uvicorn

    uvicorn.run("planner.api.main:create_app", factory=True, host=host, port=port, log_level=log_level,
                workers=1, proxy_headers=False)
