"""Everything a hashmon process reads at start-up; nothing else reads os.environ."""

import tomllib
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hashmon"))


class Settings(BaseSettings):
    """HASHMON_* environment variables, then an optional hashmon.toml; the environment wins."""

    model_config = SettingsConfigDict(
        env_prefix="HASHMON_", toml_file="hashmon.toml", extra="forbid"
    )

    redis_url: str | None = None  # redis://, rediss://, unix://; None -> the embedded server
    data_dir: Path = Field(default_factory=_default_data_dir)
    publish_batch: int = Field(200, gt=0, le=10_000)  # posts per stream entry
    max_stream_backlog: int = Field(10_000, gt=0)  # entries; at this, publishers wait
    ingest_shards: int = Field(1, ge=1, le=64)  # streams entries spread over (one per cluster node)
    read_count: int = Field(10, gt=0, le=1_000)  # stream entries per aggregator step
    read_block_ms: int = Field(1_000, ge=10)  # also how quickly a stop request is noticed
    claim_idle_ms: int = Field(60_000, ge=10)  # pending this long -> a live consumer claims it
    heartbeat_s: float = Field(5.0, gt=0)
    shutdown_grace_s: float = Field(20.0, ge=0)
    retention_days: float = Field(30.0, gt=0)  # counted back from each tag's newest post
    coordination_max_window_s: int = Field(300, gt=0, le=86_400)  # the widest window a query takes
    coordination_min_similarity: float = Field(0.8, gt=0, le=1)  # lowest co-similar threshold
    coordination_min_tokens: int = Field(5, ge=1)  # shorter token sets are similar to nothing
    coordination_max_matches: int = Field(100, ge=1)  # posts of one key per bucket; more: viral
    collection_lease_s: float = Field(60.0, gt=0)  # a dead collector's cursors wait this long
    poll_interval_s: float = Field(60.0, gt=0)  # between a collector's passes over its sources
    http_timeout_s: float = Field(30.0, gt=0)  # one request to a platform, body included
    http_attempts: int = Field(5, gt=0, le=100)  # tries on 5xx, timeouts and connection errors
    http_backoff_s: float = Field(1.0, gt=0)  # first retry delay; doubles, capped, with jitter
    backfill_pages: int = Field(25, ge=0)  # older pages a pass reads per (source, tag)
    stream_flush_s: float = Field(0.5, gt=0)  # a stream's posts are published at least this often
    stream_idle_s: float = Field(10.0, gt=0)  # collect --once: a stream this quiet has caught up
    report_refresh_s: float = Field(10.0, gt=0)  # between the reporter's passes over the tags
    api_host: str = "127.0.0.1"  # the HTTP API and its pages; elsewhere only when told
    api_port: int = Field(8750, ge=0, le=65_535)  # 0: any free port
    api_token: SecretStr | None = None  # writes need it as a bearer token; unset or blank: none
    api_allowed_hosts: Annotated[list[str], NoDecode] = []  # names the API answers to, by commas
    api_budget_s: float = Field(30.0, gt=0, le=3_600)  # a request's wait and build, at most
    api_builds: int = Field(2, ge=1, le=64)  # reports and networks built at once for the API

    @field_validator("api_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, hosts: object) -> object:
        """'a.example, b.example' from the environment; a list from hashmon.toml."""
        if isinstance(hosts, str):
            return [host.strip().lower() for host in hosts.split(",") if host.strip()]
        return hosts

    @field_validator("api_token")
    @classmethod
    def _blank_token_is_none(cls, token: SecretStr | None) -> SecretStr | None:
        """An empty token would match an empty header: it disables writes instead."""
        return token if token is not None and token.get_secret_value().strip() else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


class SettingsError(Exception):
    """A setting with a bad value; the message is one line naming it."""


def load(**overrides: object) -> Settings:
    """Build Settings once, turning a validation error into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # values are validated here
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"hashmon.toml: invalid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        where = f"HASHMON_{name.upper()} or {name} in hashmon.toml"
        raise SettingsError(f"setting {name} ({where}): {first['msg']}") from None
