"""The dashboard in headless Chromium: it shows the sample's figures, and its form adds a tag.

Chromium comes from Debian's ``chromium`` package, which ``.ci/run`` installs; on a machine
without it these tests are skipped, saying why.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from redis.asyncio import Redis

from monitor import queue, watchlist
from monitor.api.app import make_app
from monitor.importers.canonical import parse_line
from monitor.reports import build
from monitor.settings import Settings
from tests import browser
from tests.test_report_coordination import SAMPLE
from workers.aggregator import Aggregator

pytestmark = pytest.mark.skipif(
    browser.CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)"
)
TOKEN = "dashboard-token"
TAG = "irgcoutofiraq"


@pytest.fixture
async def site(redis: Redis, settings: Settings) -> AsyncIterator[str]:
    await watchlist.add(redis, "default", [TAG])
    await queue.ensure_group(redis)
    posts = [parse_line(line) for line in SAMPLE.read_bytes().splitlines()]
    await queue.publish(redis, posts, batch=200)
    await Aggregator(redis, settings, name="agg").run_until_idle()
    configured = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    async with TestServer(make_app(redis, configured), host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def test_the_pages_show_the_figures_of_the_report(
    site: str, redis: Redis, tmp_path: Path
) -> None:
    day = await build.tag_report(redis, TAG, "24h", None, 5)
    everything = await build.tag_report(redis, TAG, None, None, 20)
    async with browser.tab(tmp_path / "profile") as tab:
        await tab.open(f"{site}/")
        cells = await tab.evaluate(
            "[...document.querySelectorAll('tbody tr')[0].cells].map(c => c.innerText.trim())"
        )
        assert cells[:3] == [day.display, f"{day.people:,}", f"{day.posts.total:,}"], cells
        assert cells[4] == (day.coordination.bursts[-1].start if day.coordination else "")
        await tab.evaluate("document.querySelector('tbody a').click()")
        await tab.loaded()
        text = await tab.evaluate("document.body.innerText")
        assert f"{everything.posts.total:,} posts by {everything.people:,} people" in text
        assert await tab.evaluate(
            "document.querySelectorAll('svg rect[data-burst]').length"
        ) == len(everything.coordination.bursts if everything.coordination else [])
        assert "Coordination" in text and "Copy-paste clusters" in text


async def test_the_form_adds_a_tag_with_the_token_and_not_without(
    site: str, redis: Redis, tmp_path: Path
) -> None:
    fill = ("const f = document.querySelector('#add'); f.tag.value = '#NewTag'; "
            "f.token.value = '{token}'; f.submit()")  # fmt: skip
    async with browser.tab(tmp_path / "profile") as tab:
        await tab.open(f"{site}/")
        await tab.evaluate(fill.format(token="wrong"))
        await tab.loaded()
        assert "a valid API token is needed" in await tab.evaluate("document.body.innerText")
        assert "newtag" not in await watchlist.tags(redis, "default")
        await tab.open(f"{site}/")
        await tab.evaluate(fill.format(token=TOKEN))
        await tab.loaded()
        assert "#newtag" in await tab.evaluate("document.body.innerText")  # back on the list
        assert "newtag" in await watchlist.tags(redis, "default")
