"""A Jetstream server for tests and the benchmark: real aiohttp WebSocket, the real framing.

Events have the shape of ../shared/platforms/fixtures/bluesky/jetstream_subscribe_posts_reposts:
one JSON object per text frame, ``kind`` commit/identity/account, commits filtered by
``wantedCollections`` (identity and account events always pass), replay from ``cursor``
(unix microseconds, inclusive). After the replay the socket stays open, and events added later
are pushed as they come, as on the live stream.

Run as ``python -m tests.fakes.jetstream FRAMES.jsonl`` to serve a recorded stream on a free
port (printed on the first line of stdout), for the benchmark.
"""

import argparse
import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

Json = dict[str, Any]  # Any: events are JSON objects as Jetstream sends them

POST, REPOST = "app.bsky.feed.post", "app.bsky.feed.repost"


@dataclass
class Jetstream:
    """Events to replay, and what each connection asked for."""

    events: list[bytes] = field(default_factory=list)  # encoded frames, in time order
    times: list[int] = field(default_factory=list)  # each frame's time_us
    collections: list[str | None] = field(default_factory=list)  # each commit's collection
    connections: list[dict[str, list[str]]] = field(default_factory=list)
    drop_after: int | None = None  # the next connection is dropped after this many frames
    sent: int = 0
    bulk: bool = False  # replay by writing ready-made frames straight to the socket (benchmark)
    refuse: int = 0  # the next connections get a 502 from the proxy in front instead

    def add(self, event: Json | bytes, time_us: int | None = None) -> None:
        """An event, or raw bytes (a malformed frame) sent at ``time_us``."""
        if isinstance(event, bytes):
            self.events.append(event)
            self.times.append(time_us or (self.times[-1] if self.times else 0))
            self.collections.append(None)
            return
        self.events.append(orjson.dumps(event))
        self.times.append(event["time_us"])
        self.collections.append(event.get("commit", {}).get("collection"))

    def _from(self, position: int) -> list[tuple[bytes, int, str | None]]:
        end = len(self.events)
        return list(zip(self.events[position:end], self.times[position:end],
                        self.collections[position:end], strict=True))  # fmt: skip

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/subscribe", self._subscribe)
        return app

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            self.refuse -= 1
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>",
                                content_type="text/html")  # fmt: skip
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        query = {key: request.query.getall(key) for key in request.query}
        self.connections.append(query)
        wanted = set(query.get("wantedCollections", []))
        since = int(query.get("cursor", ["0"])[0])
        drop, self.drop_after = self.drop_after, None
        position = sent = 0
        left = asyncio.ensure_future(_until_closed(socket))
        while not left.done():  # replay, then push events added later, as they come
            chunk = bytearray()
            for frame, at, collection in self._from(position):
                position += 1
                if at < since or (collection is not None and wanted and collection not in wanted):
                    continue
                if drop is not None and sent >= drop:
                    await socket.close()
                    await left
                    return socket
                sent += 1
                self.sent += 1
                if not self.bulk:
                    await socket.send_str(frame.decode(errors="replace"))  # text, as Jetstream
                    continue
                chunk += _text_frame(frame)
                if len(chunk) >= 256 * 1024:
                    await _write(request, chunk)
                    chunk = bytearray()
            if chunk:
                await _write(request, chunk)
            await asyncio.wait({left}, timeout=0.02)
        return socket


async def _until_closed(socket: web.WebSocketResponse) -> None:
    async for _ in socket:  # the client sends nothing that matters; its close ends this
        pass


def _text_frame(payload: bytes) -> bytes:
    """An unmasked WebSocket text frame (RFC 6455 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


async def _write(request: web.Request, chunk: bytearray) -> None:
    """Write frames past aiohttp's per-frame writer, pacing on the socket's buffer: the
    benchmark measures the reader, so the server must not be the slower end."""
    transport = request.transport
    assert transport is not None
    transport.write(bytes(chunk))
    for _ in range(10_000):
        if transport.get_write_buffer_size() < 4 * 1024 * 1024:
            return
        await asyncio.sleep(0.001)


def post(
    did: str,
    rkey: str,
    text: str,
    time_us: int,
    *,
    facet_tags: list[str] | None = None,
    extra_tags: list[str] | None = None,
    langs: list[str] | None = None,
    reply_to: str | None = None,
    quote_of: str | None = None,
) -> Json:
    """A create commit of a post; ``facet_tags`` get facets over their UTF-8 byte offsets."""
    facets = []
    for tag in facet_tags or []:
        start = text.encode().find(f"#{tag}".encode())
        facets.append({
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            "index": {"byteStart": start, "byteEnd": start + len(f"#{tag}".encode())},
        })  # fmt: skip
    record: Json = {
        "$type": POST,
        "createdAt": _iso(time_us - 400_000),
        "langs": langs or ["en"],
        "text": text,
        "facets": facets,
    }
    if extra_tags:
        record["tags"] = extra_tags
    if reply_to:
        ref = {"uri": reply_to, "cid": "bafyreiparent"}
        record["reply"] = {"root": ref, "parent": ref}
    if quote_of:
        record["embed"] = {"$type": "app.bsky.embed.record",
                           "record": {"uri": quote_of, "cid": "bafyreiquoted"}}  # fmt: skip
    return _commit(did, rkey, POST, record, time_us)


def repost(did: str, rkey: str, subject: str, time_us: int) -> Json:
    record = {"$type": REPOST, "createdAt": _iso(time_us - 100_000),
              "subject": {"uri": subject, "cid": "bafyreisubject"}}  # fmt: skip
    return _commit(did, rkey, REPOST, record, time_us)


def delete(did: str, rkey: str, time_us: int) -> Json:
    commit = {"rev": "3gsfecxm2jkxp", "operation": "delete", "collection": POST, "rkey": rkey}
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}


def identity(did: str, handle: str, time_us: int) -> Json:
    change = {"did": did, "handle": handle, "seq": 1, "time": _iso(time_us)}
    return {"did": did, "time_us": time_us, "kind": "identity", "identity": change}


def account(did: str, time_us: int, active: bool = True) -> Json:
    return {"did": did, "time_us": time_us, "kind": "account",
            "account": {"active": active, "did": did, "seq": 2, "time": _iso(time_us)}}  # fmt: skip


def at_uri(did: str, rkey: str, collection: str = POST) -> str:
    return f"at://{did}/{collection}/{rkey}"


def _commit(did: str, rkey: str, collection: str, record: Json, time_us: int) -> Json:
    commit = {"rev": f"rev{rkey}", "operation": "create", "collection": collection,
              "rkey": rkey, "record": record, "cid": f"bafyrei{rkey}"}  # fmt: skip
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}


def _iso(time_us: int) -> str:
    moment = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def _serve(frames: Path) -> None:
    stream = Jetstream(bulk=True)
    with frames.open("rb") as lines:
        for line in lines:
            stream.add(orjson.loads(line))
    runner = web.AppRunner(stream.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"ws://{host}:{port}", flush=True)  # noqa: T201  # the benchmark reads the address
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a recorded Jetstream (JSONL of events).")
    parser.add_argument("frames", type=Path)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.frames))


if __name__ == "__main__":
    main()
