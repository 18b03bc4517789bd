"""Property-based: schemathesis generates requests from our own OpenAPI schema and
checks every answer — no server error, and status codes, content types, headers and
bodies as the schema documents them. Bounded: a few examples per operation.

Not checked: that every schema-valid request is accepted. The schema cannot say
"no NUL character" or "a date within the last 20 years", which the project
refuses on purpose (config/tests/test_hostile_inputs.py holds those rules).
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

# In-process WSGI closes a connection left in a transaction: run in autocommit.
pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def api_schema(staff_user):
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


schema = schemathesis.pytest.from_fixture("api_schema")


@schemathesis.serializer("application/offset+octet-stream")
def tus_chunk(ctx, value):
    """tus PATCH bodies are raw bytes: send what was generated, as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


# /readyz answers 503 on purpose while no worker runs (none does here).
@schema.exclude(path="/readyz").parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_its_schema_says(case, staff_user):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=staff_user)
    case.call_and_validate(
        headers={"Authorization": f"Token {token.key}"},
        checks=[
            checks.not_a_server_error,
            openapi_checks.status_code_conformance,
            openapi_checks.content_type_conformance,
            openapi_checks.response_headers_conformance,
            openapi_checks.response_schema_conformance,
        ],
    )
