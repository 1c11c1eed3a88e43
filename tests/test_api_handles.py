"""The API's evidence by handle: the same pairs as by id, and an ambiguous or unknown account
answered with a JSON error naming its parameter, as the OpenAPI document says."""

from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from redis.asyncio import Redis

from monitor import queue
from monitor.api.openapi import document
from monitor.settings import Settings
from tests.factories import post
from tests.test_api import load
from workers.aggregator import Aggregator

TAG = "irgcoutofiraq"


async def evidence(api: tuple[ClientSession, str], a: str, b: str) -> tuple[int, object]:
    client, base = api
    async with client.get(f"{base}/api/tags/{TAG}/evidence?{urlencode({'a': a, 'b': b})}") as got:
        assert got.content_type == "application/json"
        return got.status, await got.json()


@pytest.fixture
async def loaded(redis: Redis, settings: Settings) -> None:
    """load()'s posts (accounts u0, u1, u2 post one a minute, handles useru0...), and @twin on X
    and on Reddit."""
    await load(redis, settings)
    twins = [
        post("t1", "t1", ["IRGCOutOfIraq"], handle="twin", at=400),
        post("t2", "t2", ["IRGCOutOfIraq"], handle="Twin", platform="reddit", at=401),
    ]
    await queue.publish(redis, twins, batch=100)
    aggregator = Aggregator(redis, settings, name="agg")
    await aggregator.run_until_idle()
    await aggregator.close()


@pytest.mark.usefixtures("loaded")
async def test_evidence_by_handle_is_evidence_by_id(api: tuple[ClientSession, str]) -> None:
    status, by_id = await evidence(api, "u2", "u0")
    assert status == 200 and by_id["pairs"]  # type: ignore[index]
    assert await evidence(api, "@UserU2", "useru0") == (200, by_id)
    assert await evidence(api, "x:u2", "@USERU0") == (200, by_id)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("a", "b", "status", "error"),
    [
        ("@twin", "u0", 400, {"field": "a", "error": f"@twin is more than one account of #{TAG}: "
                              "reddit:t2 (@Twin), x:t1 (@twin); name one by its id"}),
        ("u0", "@nobody", 404, {"field": "b", "error": f"no account @nobody posted #{TAG}"}),
        ("u0", "@useru0", 400, {"field": "b", "error": "u0 and @useru0 are one account, "
                                "x:u0 (@useru0)"}),
    ],
)  # fmt: skip
async def test_an_account_named_wrongly_is_an_error_naming_its_field(
    api: tuple[ClientSession, str], a: str, b: str, status: int, error: dict[str, str]
) -> None:
    assert await evidence(api, a, b) == (status, error)


def test_the_document_says_accounts_may_be_handles(settings: Settings) -> None:
    route = document(settings)["paths"]["/api/tags/{tag}/evidence"]["get"]
    described = {p["name"]: p["description"] for p in route["parameters"]}
    assert "an account id or handle" in described["a"]
    assert "an account id or handle" in described["b"]
    assert "no post of the tag by that account" in route["responses"]["404"]["description"]
