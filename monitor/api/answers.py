"""The shapes of the API's JSON answers that are not reports, for its OpenAPI document; the
routes build their answers with these, or the document's tests hold them to these."""

from pydantic import BaseModel, ConfigDict, Field

from monitor.health import Status


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(_Answer):
    error: str
    field: str | None = None  # the parameter at fault; absent when nothing was wrong with one


class OneList(_Answer):
    name: str = Field(alias="list")
    tags: list[str]
    display: dict[str, str]  # tag -> its most used spelling


class Added(_Answer):
    name: str = Field(alias="list")
    added: int
    tags: list[str]


class Removed(_Answer):
    name: str = Field(alias="list")
    removed: int


class Health(Status):
    ok: bool


class NetworkWindow(_Answer):
    start: str
    end: str


class Edge(_Answer):
    source: str
    target: str
    weight: int
    source_handle: str | None
    target_handle: str | None


class NetworkNode(_Answer):
    id: str
    platform: str
    handle: str | None
    name: str | None  # null until display names are stored


class NetworkCluster(_Answer):
    size: int
    members: list[str]
    weight: int
    evidence_pairs: int
    posts: int


class Network(_Answer):
    tag: str
    window: NetworkWindow
    parameters: dict[str, str | int | float]
    unpaired_viral_posts: int
    edges: list[Edge]
    nodes: list[NetworkNode]
    clusters: list[NetworkCluster]
    generated_by: str


class EvidencePost(_Answer):
    post: str
    account: str
    handle: str | None
    time: str
    url: str | None
    text: str | None  # what the post said, where stored


class EvidencePair(BaseModel):
    """The query's parameters, then the pair."""

    first: EvidencePost
    second: EvidencePost
    dt_s: float
    shared: str  # the key, link or post they share
    texts: list[str] | None


class Evidence(_Answer):
    parameters: dict[str, str | int | float]
    pairs: list[EvidencePair]
