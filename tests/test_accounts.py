"""monitor.accounts: account ids looked up in the tallies name the same accounts, with the same
handles, as the pass over the records that handles take."""

import pytest
from redis.asyncio import Redis

from monitor import accounts, watchlist
from monitor.accounts import Account, AccountError, AmbiguousAccount, UnknownAccount
from monitor.settings import Settings
from tests.factories import post
from tests.test_aggregator import aggregate

TAG = "irgcoutofiraq"


@pytest.fixture
async def posted(redis: Redis, settings: Settings) -> None:
    """Account 1 renamed from @old to @new; account 2 posted last without a handle; id 3 is an
    account on X and another on Mastodon; @x is X account 4's, then Reddit account 5's."""
    await watchlist.add(redis, "default", [TAG])
    posts = [
        post("a", "1", [TAG], handle="old", at=0),
        post("b", "1", [TAG], handle="New", at=10),
        post("c", "2", [TAG], handle="two", at=0),
        post("d", "2", [TAG], at=20).model_copy(update={"author_handle": None}),
        post("e", "3", [TAG], handle="x3", at=0),
        post("f", "3", [TAG], handle="m3@example.social", platform="mastodon", at=0),
        post("g", "4", [TAG], handle="x", at=0),
        post("h", "5", [TAG], handle="X", platform="reddit", at=30),
    ]
    await aggregate(redis, settings, posts)


@pytest.mark.usefixtures("posted")
async def test_ids_name_the_same_accounts_through_the_tallies_and_the_records(
    redis: Redis,
) -> None:
    values = ["1", "2", "3", "mastodon:3", "x:4", "reddit:5"]
    expected = [Account("x", "1", "New"), Account("x", "2", None),
                Account("mastodon", "3", "m3@example.social"),
                Account("mastodon", "3", "m3@example.social"), Account("x", "4", "x"),
                Account("reddit", "5", "X")]  # fmt: skip
    known = await accounts.directory(redis, TAG)
    for value, account in zip(values, expected, strict=True):
        assert await accounts.resolve(redis, TAG, value) == [account], value
        assert known.resolve_all([value]) == [account], value


@pytest.mark.usefixtures("posted")
async def test_every_handle_an_account_carried_names_it(redis: Redis) -> None:
    assert await accounts.resolve(redis, TAG, "@OLD", "@two") == [
        Account("x", "1", "New"), Account("x", "2", None),
    ]  # fmt: skip
    assert await accounts.resolve(redis, TAG, "m3@EXAMPLE.social", "x3") == [
        Account("mastodon", "3", "m3@example.social"), Account("x", "3", "x3"),
    ]  # fmt: skip


@pytest.mark.usefixtures("posted")
@pytest.mark.parametrize(
    ("values", "error", "which", "message"),
    [
        (["1", "@x"], AmbiguousAccount, 1,
         f"@x is more than one account of #{TAG}: reddit:5 (@X), x:4 (@x); name one by its id"),
        (["@nobody", "1"], UnknownAccount, 0, f"no account @nobody posted #{TAG}"),
        (["1", "x:9"], UnknownAccount, 1, f"no account x:9 posted #{TAG}"),
        (["@Old", "new"], AmbiguousAccount, 1, "@Old and new are one account, x:1 (@New)"),
        (["3", "mastodon:3"], AmbiguousAccount, 1,
         "3 and mastodon:3 are one account, mastodon:3 (@m3@example.social)"),
    ],
)  # fmt: skip
async def test_a_value_naming_no_single_account_says_which(
    redis: Redis, values: list[str], error: type[AccountError], which: int, message: str
) -> None:
    with pytest.raises(error) as raised:
        await accounts.resolve(redis, TAG, *values)
    assert (str(raised.value), raised.value.which) == (message, which)
