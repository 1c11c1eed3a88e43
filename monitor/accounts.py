"""Which account a user means when they name one: reports show handles, networks and evidence
work on the platform's account ids, and a user may copy either.

A value names an account of a tag when, in this order:

1. it is the account id of one of the tag's retained posts (ids win: they never change hands);
2. it is '<platform>:<account id>' of one (the form ambiguity errors list);
3. it is a handle one of the tag's retained posts carried, compared case-insensitively and
   without a leading '@': '@name' or 'name' (X, Reddit), 'name@instance' (Mastodon),
   'name.bsky.social' (Bluesky). Every handle each post carried counts, not only an account's
   newest, so a handle copied from an older post still resolves, and a handle that passed from
   one account to another is refused as ambiguous rather than silently given to either.

Nothing is guessed: a handle held by two accounts (on two platforms, or one after the other) is
an error listing them, and a value that names no account is an error naming the value.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import hashed, keys, terminal
from monitor.connection import text
from monitor.reports import tallied
from monitor.reports.tallied import SEP


class AccountError(Exception):
    """A value that names no single account; ``which`` is its place among the values given."""

    which = 0


class UnknownAccount(AccountError, LookupError):
    """No retained post of the tag is by the account named; the message names the value."""


class AmbiguousAccount(AccountError, ValueError):
    """The handle was carried by more than one account, or two values name one; the message
    lists the accounts."""


@dataclass(frozen=True, order=True)
class Account:
    platform: str
    id: str
    handle: str | None  # the one its newest post carried, as reports show it

    def __str__(self) -> str:
        shown = f"{self.platform}:{self.id}"
        return f"{shown} (@{_shown(self.handle.removeprefix('@'))})" if self.handle else shown


def folded(handle: str) -> str:
    """A handle as compared: without one leading '@', case-folded."""
    return handle.removeprefix("@").casefold()


@dataclass
class Directory:
    """A tag's accounts, with every handle their retained posts carried."""

    tag: str
    newest: dict[tuple[str, str], tuple[int, bytes, str | None]] = field(default_factory=dict)
    handles: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # folded -> accounts

    @classmethod
    def of(
        cls, tag: str, posts: dict[tuple[str, str, str | None], tuple[int, bytes]]
    ) -> "Directory":
        """From each (platform, account id, handle) and the newest (time, post) that carried it;
        posts compare as the tallies compare them (monitor/signals/tally.lua, keep_newest)."""
        found = cls(tag)
        for (platform, author, handle), (t_ms, key) in posts.items():
            account = (platform, author)
            if account not in found.newest or found.newest[account][:2] < (t_ms, key):
                found.newest[account] = (t_ms, key, handle)
            if handle:
                found.handles.setdefault(folded(handle), set()).add(account)
        return found

    def resolve(self, value: str) -> Account:
        """The one account ``value`` names (see the module's rules)."""
        found = sorted(a for a in self.newest if a[1] == value)
        if not found and ":" in value:
            platform, _, author = value.partition(":")
            found = [(platform, author)] if (platform, author) in self.newest else []
        if not found:
            found = sorted(self.handles.get(folded(value), ()))
            if len(found) > 1:
                listed = ", ".join(str(self._account(a)) for a in found)
                raise AmbiguousAccount(
                    f"{_shown(value)} is more than one account of #{self.tag}: {listed}; "
                    "name one by its id"
                )
        if not found:
            raise UnknownAccount(f"no account {_shown(value)} posted #{self.tag}")
        return self._account(found[0])  # an id on two platforms: either gives the same pairs

    def resolve_all(self, values: Sequence[str]) -> list[Account]:
        """One account per value, in order; the error's ``which`` says which value."""
        found: list[Account] = []
        for which, value in enumerate(values):
            try:
                found.append(self.resolve(value))
            except AccountError as exc:
                exc.which = which
                raise
        return found

    def _account(self, account: tuple[str, str]) -> Account:
        return Account(*account, self.newest[account][2])


def _shown(value: str) -> str:
    return terminal.clean(value)


async def resolve(redis: Redis, tag: str, *values: str) -> list[Account]:
    """The distinct accounts ``values`` name, in order (see the module's rules); the error's
    ``which`` says which value is at fault. Account ids are looked up in the tag's tallies when
    they are complete; a handle takes a pass over the tag's records (seconds a million posts)."""
    found = await _by_ids(redis, tag, values)
    if found is None:
        found = (await directory(redis, tag)).resolve_all(values)
    for which, account in enumerate(found):
        if account in found[:which]:
            earlier = values[found.index(account)]
            twice = AmbiguousAccount(
                f"{_shown(earlier)} and {_shown(values[which])} are one account, {account}"
            )
            twice.which = which
            raise twice
    return found


async def _by_ids(redis: Redis, tag: str, values: Sequence[str]) -> list[Account] | None:
    """Each value as an account id (or '<platform>:<id>') by the tallies' index of accounts'
    posts, with the handle of the account's newest post, as ``Directory`` gives them; None when
    a value is no such id, or the tallies are incomplete."""
    if not await tallied.current(redis, tag) or any(SEP in value for value in values):
        return None
    found = []
    for value in values:
        first = await _first_post(redis, tag, f"{value}{SEP}")  # the smallest platform first
        if first is None and ":" in value:
            platform, _, author = value.partition(":")
            first = await _first_post(redis, tag, f"{author}{SEP}{platform}{SEP}")
        if first is None:
            return None
        author, platform, *_ = first.split(SEP)
        newest = await redis.hget(keys.tally(tag, "counts"), f"h{SEP}{platform}{SEP}{author}")
        found.append(Account(platform, author, orjson.loads(newest)[2] if newest else None))
    return found


async def _first_post(redis: Redis, tag: str, prefix: str) -> str | None:
    """The first member of the tallies' 'times' index that starts with ``prefix`` (an account id
    and what follows it)."""
    shard = keys.tally_times(tag, prefix.partition(SEP)[0])
    first = cast(
        list[bytes],
        await redis.zrange(shard, f"[{prefix}", f"({prefix[:-1]}\x01",
                           bylex=True, offset=0, num=1),
    )  # fmt: skip
    return text(first[0]) if first else None


async def directory(redis: Redis, tag: str) -> Directory:
    """Every account of the tag's retained posts: one pass over its records, keeping only the
    accounts and handles (memory grows with accounts, not posts)."""
    posts: dict[tuple[str, str, str | None], tuple[int, bytes]] = {}
    async for key, raw in hashed.items(redis, keys.records(tag)):
        # records.loads's first five fields, read without building a Record: half the time
        t_ms, _, platform, author, handle, *_ = orjson.loads(raw)
        carried, newest = (platform, author, handle), (t_ms, key)
        if carried not in posts or posts[carried] < newest:
            posts[carried] = newest
    return Directory.of(tag, posts)
