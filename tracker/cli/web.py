"""`jiebang web` (the staff workspace) and `jiebang user add|list|disable|2fa` (its accounts)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from campaign.clock import with_offset
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    fail,
    migrated_app,
    out,
    reading_app,
    setup_logging,
)
from tracker.cli.exits import EXIT_CONFIG
from tracker.config import Operator
from tracker.records import accounts, twofactor
from tracker.records.review.experts import add_expert

user_app = typer.Typer(help="Accounts of the web workspace.", no_args_is_help=True, rich_markup_mode=None)


def web(
    config: ConfigOpt = None,
    port: Annotated[int | None, typer.Option("--port", min=0, max=65535, help="default: web.port (8025)")] = None,
    host: Annotated[str | None, typer.Option("--host", help="default: web.host (127.0.0.1)")] = None,
) -> None:
    """Serve the staff web workspace (on 127.0.0.1:8025 unless configured otherwise)."""
    from tracker.web.server import serve  # heavy: starlette, uvicorn

    setup_logging()
    a = migrated_app(config)
    serve(a, host=host, port=port)


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[str, typer.Option("--role", help="province | city | viewer | expert")],
    city: Annotated[str | None, typer.Option("--city", help="a city user's city, e.g. 济南市")] = None,
    email: Annotated[str | None, typer.Option("--email", help="an expert's address (invitations)")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="an expert's unit (conflicts are found from it)")] = None,
    uscc: Annotated[str | None, typer.Option("--uscc", help="the expert's unit's credit code, if known")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    config: ConfigOpt = None,
) -> None:
    """Create an account; the password is read from stdin (never from the command line).

    The name is kept normalised (NFKC, lower case, no spaces around it); the password needs
    12 characters or more, not a common one, not containing the name."""
    if not password_stdin:
        raise fail("give the password on stdin with --password-stdin", EXIT_CONFIG)
    password = sys.stdin.readline().rstrip("\r\n")
    a = migrated_app(config)
    with Session(a.engine) as session:
        try:
            if role == "expert":
                added = add_expert(session, name, password, email=email or "", unit=unit or "", uscc=uscc,
                                   actor=Operator().actor())
            else:
                added = accounts.add_user(session, name, role, password, city=city,
                                          cities=frozenset(a.policy.catalogue.cities), actor=Operator().actor())
        except accounts.AccountError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
        stored = added.name
        session.commit()
    out.print(f"user {stored} added ({role}{' ' + city if city else ''})", markup=False)


@user_app.command("list")
def list_users(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Accounts, their role, city and whether they are active."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows: list[dict[str, Any]] = [{"name": u.name, "role": u.role, "city": u.city, "active": u.active,
                                       "created_at": u.created_at.isoformat(),
                                       "two_factor": twofactor.enrolled(session, u.id or 0)}
                                      for u in accounts.users(session)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("用户", "角色", "城市", "状态", "两步验证", "创建", title=f"账号 {len(rows)} 个")
    for r in rows:
        table.add_row(r["name"], r["role"], r["city"] or "", "启用" if r["active"] else "停用",
                      "已启用" if r["two_factor"] else "—", with_offset(r["created_at"]))
    out.print(table)


@user_app.command("disable")
def disable(name: Annotated[str, typer.Argument()], config: ConfigOpt = None) -> None:
    """Disable an account; its sessions end at once."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        try:
            stored = accounts.disable_user(session, name, actor=Operator().actor()).name
        except accounts.AccountError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
        session.commit()
    out.print(f"user {stored} disabled", markup=False)


@user_app.command("2fa")
def two_factor(
    name: Annotated[str, typer.Argument()],
    off: Annotated[bool, typer.Option("--off", help="end the enrolment (a lost phone): the password alone signs in again")] = False,
    config: ConfigOpt = None,
) -> None:
    """Enrol an account in two-factor sign-in: prints its secret, otpauth URI and ten recovery
    codes once (a new enrolment replaces the old one). The account then signs in with a 6-digit
    code after its password."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        user = accounts.find_user(session, name)
        if user is None:
            raise fail(f"no user {name!r}", EXIT_CONFIG)
        if off:
            removed = twofactor.remove(session, user, actor=Operator().actor())
            session.commit()
            out.print(f"two-factor sign-in of {user.name} ended" if removed else f"{user.name} was not enrolled",
                      markup=False)
            return
        enrolment = twofactor.enrol(session, user, actor=Operator().actor())
        stored = user.name
        session.commit()
    lines = [f"two-factor sign-in enrolled for {stored}",
             f"secret (type it into the authenticator app): {enrolment.secret}",
             f"otpauth URI (or a QR code of it): {enrolment.uri}",
             "recovery codes (each works once; shown only now; keep them apart from the phone):",
             *(f"  {code}" for code in enrolment.recovery_codes)]
    sys.stdout.write("\n".join(lines) + "\n")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.command()(web)
    app.add_typer(user_app, name="user")
