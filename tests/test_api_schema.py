"""The OpenAPI document against the real server: schemathesis sends what the document allows (and
what it forbids) to `hashmon run`, with every check on; the server must answer as documented."""

import re
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation

from monitor.api.openapi import document
from monitor.settings import Settings
from tests.conftest import API_DAEMON_POSTS, TOKEN

TAG = "irgcoutofiraq"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KNOWN = {"tag": TAG, "name": "default"}  # half the valid cases ask about data that exists
# Valid data the server may still refuse for reasons no schema can state: since after until, a
# window holding no retained post, a tag of digits only, an unknown tag or list, a wrong token.
ACCEPTED = ["2xx", "400", "401", "403", "404"]
CONFIG = SchemathesisConfig.from_dict({
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
})  # fmt: skip
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))  # fmt: skip


def _examine(operation: APIOperation, mode: GenerationMode, base: str) -> int:  # type: ignore[type-arg]  # schemathesis's own generics
    """Cases of one operation in one mode, sent and checked; how many were sent."""
    sent = 0

    @EXAMPLES
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Case) -> None:  # type: ignore[type-arg]  # as above
        nonlocal sent
        if case.path_parameters and mode is GenerationMode.POSITIVE and sent % 2:
            case.path_parameters = {k: KNOWN.get(k, v) for k, v in case.path_parameters.items()}
        sent += 1
        case.call_and_validate(base_url=base, headers=AUTH, timeout=60)

    try:
        check()
    except Unsatisfiable:  # no parameter or body to get wrong
        assert mode is GenerationMode.NEGATIVE, operation.label
    return sent


@pytest.mark.timeout(300)
def test_the_server_answers_as_its_document_says(api_daemon: tuple[str, int]) -> None:
    base, _ = api_daemon
    schema = schemathesis.openapi.from_dict(document(Settings()), config=CONFIG)
    sent = 0
    for found in schema.get_all_operations():
        operation = found.ok()  # type: ignore[union-attr]  # a valid document: no Err
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _examine(operation, mode, base)
    assert sent > 200
    with urllib.request.urlopen(f"{base}/api/tags/{TAG}/report") as response:
        total = rb'"total":\s*%d' % API_DAEMON_POSTS
        assert re.search(total, response.read())  # nothing changed what it counts
