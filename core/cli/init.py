"""``duban init``."""

from __future__ import annotations

import click

from ..i18n import t
from .context import Env, pass_env


@click.command()
@click.option("--empty", is_flag=True, help="Create the schema only; load no plan or regions.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="A database for training, demos and tests, whose clock --as-of may set.",
)
@pass_env
def init(env: Env, empty: bool, sandbox: bool) -> None:
    """Create (or upgrade) the database and load the built-in Hunan plan."""
    from ..services.plans import initialise, load_builtin

    env.creating_sandbox = sandbox
    with env.session() as session:
        plan = initialise(session=session, empty=empty, sandbox=sandbox)
        if plan is None and not empty:
            # Initialised before (perhaps empty): loading the built-in plan is still possible once.
            plan = load_builtin(session=session)
    if plan is not None:
        click.echo(t("Loaded {title} into {url}", title=plan.title, url=env.safe_url))
    elif empty:
        click.echo(t("Database ready: {url}", url=env.safe_url))
    else:
        click.echo(t("The built-in plan is already loaded: {url}", url=env.safe_url))
