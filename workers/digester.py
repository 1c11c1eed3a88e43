"""The digest role: writes each scheduled watchlist summary once per period."""

import logging

import aiohttp

from monitor import digests
from workers.role import Role

log = logging.getLogger(__name__)

CHECK_S = 30.0  # how often due digests are looked for; a period is at least a minute


class Digester(Role):
    role = "digester"

    async def step(self) -> int:
        written = 0
        timeout = aiohttp.ClientTimeout(total=self.settings.http_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for digest in await digests.all_digests(self.redis):
                try:
                    path = await digests.write_due(self.redis, digest, session=session)
                except OSError as exc:
                    log.warning("digest %s: cannot write to %s: %s", digest.id, digest.target, exc)
                    continue
                if path is not None:
                    log.info("digest %s: sent to %s", digest.id, path)
                    written += 1
        self.done += written
        await self.beat()
        await self._sleep(CHECK_S)
        return 0
