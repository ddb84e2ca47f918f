"""`mailproc actions`: the action log of delegated issues (owner, due date, state, response)."""

from __future__ import annotations

import json

import click

from mailproc.cli.context import Context
from mailproc.governance import actions


def register(main: click.Group) -> None:
    main.add_command(actions_command)


@click.command("actions")
@click.option("--open", "open_only", is_flag=True, help="Only actions without a response yet.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def actions_command(obj: Context, open_only: bool, as_json: bool) -> None:
    """List delegated actions: reference, group, due date, state, response date."""
    app = obj.app()
    tz = app.settings.group.timezone
    with app.factory() as session:
        found = actions.list_actions(session, app.today(), open_only=open_only)
    rows = [a.as_json(tz) for a in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        due, responded = row["due_date"] or "-", row["response_date"] or "-"
        click.echo(
            f"{row['reference']}  {row['group']:<20} due {due}  {row['state']:<9} response {responded}"
        )
    if not rows:
        click.echo("no open actions" if open_only else "no actions")
