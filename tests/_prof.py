import asyncio, tempfile, time, sys
from pathlib import Path
import orjson
from monitor import watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.settings import Settings
from monitor.signals import matching, apply as applymod
from workers.importer import import_archives
from tests.bench_coordination import generate, write, TAG

mode = sys.argv[1]
orig = matching.for_tag
def patched(base, tag, ms, mt):
    f = orjson.loads(orig(base, tag, ms, mt))
    f = {"a": f["a"], "e": [e for e in f["e"] if not e[0].startswith("co-similar")]}
    return orjson.dumps(f)
applymod.matching.for_tag = patched
cuts = {"copies": "self:count_copies(f, 1)", "index": "zadd(self.ctx.index, indexed)", "hset": "redis.call('HSET', self.ctx.features, key, raw)",
        "neigh": "local hits, counts = self:neighbours(entry, t)"}
if mode in cuts:
    repl = "local hits, counts = {}, {[math.floor(t / self.ctx.window)] = 0}" if mode == "neigh" else ""
    applymod._SCRIPT = applymod._SCRIPT.replace(cuts[mode], repl)
    assert cuts[mode] not in applymod._SCRIPT

async def main():
    d = Path(tempfile.mkdtemp())
    write(d / "p.jsonl", generate(20000))
    with EmbeddedRedis(d / "redis") as server:
        r = connect(server.url)
        await watchlist.add(r, "default", [TAG.casefold()])
        await r.config_resetstat()
        t = time.perf_counter()
        await import_archives(r, Settings(redis_url=server.url, data_dir=d), [open_archive(d / "p.jsonl", "jsonl")])
        stats = await r.info("commandstats")
        print(mode, "secs", round(time.perf_counter() - t, 2), "evalsha us/post", stats["cmdstat_evalsha"]["usec"] / 20000)
        await r.aclose()
asyncio.run(main())
