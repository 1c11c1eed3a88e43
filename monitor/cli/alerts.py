"""hashmon alerts: webhook rules on bursts, coordination clusters and people talking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run
from monitor.cli.watch import FormatOption, Output

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from monitor import alert_delivery

app = typer.Typer(help="Alerts delivered to webhooks by the daemon.", no_args_is_help=True)


@app.command()
def add(
    kind: Annotated[str, typer.Argument(help="Where alerts go: webhook.")],
    url: Annotated[str, typer.Argument(help="The webhook's http(s) URL.")],
    on: Annotated[str, typer.Option(help="burst, coordination and/or people, comma-separated.")],
    name: Annotated[str, typer.Option("--list", "-l", help="The watchlist.")] = "default",
    cooldown: Annotated[
        str, typer.Option(help="At most one alert per tag and kind this often.")
    ] = "60m",
    people_at: Annotated[
        int, typer.Option("--people", help="People in an hour for 'people'.")
    ] = 500,
    slack: Annotated[bool, typer.Option(help='A Slack-compatible body: {"text": ...}.')] = False,
) -> None:
    """Deliver the list's events to a webhook (the daemon does it: `hashmon run`)."""
    from monitor import alerts

    with one_line_errors():
        if kind != "webhook":
            fail(f"invalid kind {kind[:20]!r}: webhook")
        alert = alerts.make(url, on, name, cooldown, people_at, slack)
    run(load_settings(), lambda redis: alerts.add(redis, alert))
    consoles.out.print(
        f"{alert.id}: {','.join(alert.on)} on list {alert.watchlist} to {alert.url}", markup=False
    )


@app.command("list")
def list_alerts(
    deliveries: Annotated[bool, typer.Option(help="The latest deliveries instead.")] = False,
    fmt: FormatOption = Output.text,
) -> None:
    """Every rule (or, with --deliveries, the latest deliveries, newest first)."""
    from monitor import alert_delivery, alerts
    from monitor.cli import listing
    from monitor.words import plural

    if deliveries:
        sent = run(load_settings(), alert_delivery.recent)
        columns = ["alert", "event", "at", "delivered", "attempts", "status", "error"]
        rows = [[row.get(column, "") for column in columns] for row in sent]
        for row in rows:
            row[2] = _when(row[2])
            row[3] = "yes" if row[3] == "1" else "no"
        listing.show(fmt is Output.json, sent, columns, rows,
                     empty="no deliveries yet", title=plural(len(sent), "delivery"))  # fmt: skip
        return
    found = run(load_settings(), alerts.all_alerts)
    rows = [[a.id, ",".join(a.on), a.watchlist, a.url, f"{a.cooldown_s:g} s", f"{a.people:,}",
             "yes" if a.slack else "no"] for a in found]  # fmt: skip
    listing.show(
        fmt is Output.json,
        [{"id": alert.id, **alert.model_dump()} for alert in found],
        ["id", "on", "list", "webhook", "cooldown", "people", "slack"],
        rows,
        empty="no alerts yet: add one with hashmon alerts add webhook URL --on burst",
        title=plural(len(found), "alert"),
    )


def _when(at: str) -> str:
    """A delivery's unix time as ISO 8601, or as stored when it is not a number."""
    from monitor.timewindow import iso

    try:
        return iso(round(float(at) * 1000))
    except ValueError:
        return at


@app.command()
def remove(alert_id: Annotated[str, typer.Argument(help="The id `list` shows.")]) -> None:
    from monitor import alerts

    if not run(load_settings(), lambda redis: alerts.remove(redis, alert_id)):
        fail(f"no alert {alert_id[:80]!r}", code=1)
    consoles.out.print(f"{alert_id}: removed", markup=False)


@app.command()
def test(alert_id: Annotated[str, typer.Argument(help="The id `list` shows.")]) -> None:
    """Send a test event to the rule's webhook now; exit 1 when it is not delivered."""
    import aiohttp

    from monitor import alert_delivery, alerts

    config = load_settings()

    async def send(redis: Redis) -> alert_delivery.Delivery | None:
        found = {a.id: a for a in await alerts.all_alerts(redis)}.get(alert_id)
        if found is None:
            return None
        event = alerts.Event("test", "-", "test", f"a test of alert {alert_id} to {found.url}")
        timeout = aiohttp.ClientTimeout(total=config.http_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return await alert_delivery.deliver(redis, session, found, event, 1)

    done = run(config, send)
    if done is None:
        fail(f"no alert {alert_id[:80]!r}", code=1)
    if not done.delivered:
        fail(f"alert {alert_id}: not delivered: {done.error}", code=1)
    consoles.out.print(f"{alert_id}: delivered (HTTP {done.status})", markup=False)
