"""The API role: the HTTP API served under aiohttp's AppRunner, beside the other roles."""

import logging
import os
import socket

from aiohttp import web

from monitor.api.app import make_app
from workers.role import Role

log = logging.getLogger(__name__)


class ListenError(Exception):
    """The API cannot take its address (in use, or not allowed); the message says which."""


class ApiServer(Role):
    """Listens from ``prepare`` to ``close``; its steps only beat."""

    role = "api"
    runner: web.AppRunner | None = None
    address: str = ""

    async def prepare(self) -> None:
        if self.runner is not None:
            return
        self.runner = web.AppRunner(make_app(self.redis, self.settings), access_log=None)
        await self.runner.setup()
        host, port = self.settings.api_host, self.settings.api_port
        try:
            await web.TCPSite(self.runner, host, port).start()
        except OSError as exc:
            await self.runner.cleanup()
            self.runner = None
            if isinstance(exc, socket.gaierror):  # the host, not the port, is the problem
                hint = f"{str(exc.strerror).lower()}; set HASHMON_API_HOST"
            else:
                reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                hint = f"{reason}; set HASHMON_API_PORT (0: any free port)"
            raise ListenError(f"the API cannot listen on {host}:{port}: {hint}") from None
        host, port = self.runner.addresses[0][:2]
        self.address = f"http://{host}:{port}"
        log.info("api: listening on %s", self.address)
        if self.settings.api_token is None:
            log.info("api: writes are disabled: set HASHMON_API_TOKEN to allow them")

    async def step(self) -> int:
        await self.beat()
        await self._sleep(self.settings.heartbeat_s)
        return 0

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await super().close()
