"""Twenty clients sending hostile parameters to a running daemon: no 5xx but a budget's 503,
/healthz answered throughout, and the daemon's memory bounded."""

from tests.storm import storm

GIB = 1024**3


async def test_hostile_clients_get_answers_and_leave_the_daemon_well(
    api_daemon: tuple[str, int],
) -> None:
    base, pid = api_daemon
    found = await storm(base, pid, "irgcoutofiraq", clients=20, requests=10)
    assert sum(found.statuses.values()) == 200
    assert set(found.statuses) <= {200, 400, 404, 503}, found.statuses
    assert found.statuses[400] and found.statuses[200]  # hostile values refused, good ones served
    assert found.health_s and found.health_failures == 0
    assert 0 < found.peak_rss < GIB, found.peak_rss
