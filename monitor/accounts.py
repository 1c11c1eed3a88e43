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

from dataclasses import dataclass, field

from redis.asyncio import Redis

from monitor import keys, terminal
from monitor.signals import records
from monitor.signals.records import Record

_SCAN = 5_000  # records per HSCAN round trip


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
    handle: str | None  # as last written by the account, when its posts give one

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
    accounts: set[tuple[str, str]] = field(default_factory=set)  # (platform, account id)
    latest: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # newest handle
    handles: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # folded -> accounts

    def add(self, record: Record) -> None:
        account = (record.platform, record.author_id)
        self.accounts.add(account)
        if record.handle:
            self.latest[account] = max(self.latest.get(account, (0, "")),
                                       (record.t_ms, record.handle))  # fmt: skip
            self.handles.setdefault(folded(record.handle), set()).add(account)

    def resolve(self, value: str) -> Account:
        """The one account ``value`` names (see the module's rules)."""
        found = sorted(a for a in self.accounts if a[1] == value)
        if not found and ":" in value:
            platform, _, author = value.partition(":")
            found = [(platform, author)] if (platform, author) in self.accounts else []
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

    def resolve_all(self, *values: str) -> list[Account]:
        """One distinct account per value, in order; the error's ``which`` says which value."""
        found: list[Account] = []
        for which, value in enumerate(values):
            try:
                account = self.resolve(value)
            except AccountError as exc:
                exc.which = which
                raise
            if account in found:
                earlier = values[found.index(account)]
                twice = AmbiguousAccount(
                    f"{_shown(earlier)} and {_shown(value)} are one account, {account}"
                )
                twice.which = which
                raise twice
            found.append(account)
        return found

    def _account(self, account: tuple[str, str]) -> Account:
        newest = self.latest.get(account)
        return Account(*account, newest[1] if newest else None)


def _shown(value: str) -> str:
    return terminal.clean(value)


async def directory(redis: Redis, tag: str) -> Directory:
    """Every account of the tag's retained posts: one pass over its records, keeping only the
    accounts and handles (memory grows with accounts, not posts)."""
    found = Directory(tag)
    async for key, raw in redis.hscan_iter(keys.records(tag), count=_SCAN):
        found.add(records.loads(key.decode(), raw))
    return found
