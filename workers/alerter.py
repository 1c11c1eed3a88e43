"""The alerter role: looks for each rule's events and delivers the new ones to its webhook."""

import logging

import aiohttp

from monitor import alert_delivery, alerts, watchlist
from workers.role import Role

log = logging.getLogger(__name__)

CHECK_S = 30.0  # how often rules are evaluated


class Alerter(Role):
    role = "alerter"

    async def step(self) -> int:
        delivered = 0
        timeout = aiohttp.ClientTimeout(total=self.settings.http_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for alert in await alerts.all_alerts(self.redis):
                tags = sorted(await watchlist.tags(self.redis, alert.watchlist))
                for event in await alerts.events(self.redis, alert, tags):
                    if not await alert_delivery.claim(self.redis, alert, event):
                        continue
                    done = await alert_delivery.deliver(
                        self.redis, session, alert, event,
                        self.settings.http_attempts, self.settings.http_backoff_s,
                    )  # fmt: skip
                    if done.delivered:
                        delivered += 1
                    else:
                        log.warning(
                            "alert %s: %s not delivered: %s", alert.id, event.key, done.error
                        )
        await self.beat()
        await self._sleep(CHECK_S)
        return delivered  # counted in done by run()
