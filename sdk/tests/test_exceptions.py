from __future__ import annotations

import email.utils
import time

import httpx
import pytest

import govstore
from govstore._exceptions import parse_retry_after, status_error_from_response

from .support import problem


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, govstore.BadRequestError),
        (401, govstore.AuthenticationError),
        (403, govstore.PermissionDeniedError),
        (404, govstore.NotFoundError),
        (409, govstore.ConflictError),
        (412, govstore.PreconditionFailedError),
        (413, govstore.PayloadTooLargeError),
        (415, govstore.UnsupportedMediaTypeError),
        (422, govstore.UnprocessableEntityError),
        (429, govstore.RateLimitError),
        (500, govstore.ServerError),
        (502, govstore.ServerError),
        (503, govstore.ServerError),
        (418, govstore.APIStatusError),
    ],
)
def test_each_status_maps_to_its_exception(status: int, error_class: type[Exception]) -> None:
    error = status_error_from_response(problem(status, "Something", "what went wrong"))

    assert type(error) is error_class
    assert isinstance(error, govstore.APIStatusError)
    assert isinstance(error, govstore.GovStoreError)
    assert error.status == status
    assert error.title == "Something"
    assert error.detail == "what went wrong"


def test_problem_fields_and_pointers_are_parsed() -> None:
    response = problem(
        422,
        "Invalid content",
        "2 fields failed validation",
        type="https://govstore.test/problems/validation-failed",
        errors=[
            {"pointer": "/manifest/support_email", "detail": "not an email address"},
            {"pointer": "/manifest/data_uses/0/retention_days", "detail": "must be positive"},
        ],
        instance="/v1/services/svc_1/releases",
    )

    error = status_error_from_response(response)

    assert isinstance(error, govstore.UnprocessableEntityError)
    assert error.type == "https://govstore.test/problems/validation-failed"
    assert error.errors == [
        govstore.FieldError("/manifest/support_email", "not an email address"),
        govstore.FieldError("/manifest/data_uses/0/retention_days", "must be positive"),
    ]
    assert error.problem["instance"] == "/v1/services/svc_1/releases"
    assert error.code is None
    assert error.response is response
    message = str(error)
    assert message.startswith("422 Invalid content: 2 fields failed validation")
    assert "/manifest/support_email: not an email address" in message


def test_the_error_code_and_bad_query_parameters_are_parsed() -> None:
    response = problem(
        400,
        "Malformed request",
        "invalid query parameters",
        code="malformed-request",
        errors=[{"pointer": "", "detail": "not a tier", "parameter": "tier"}],
    )

    error = status_error_from_response(response)

    assert isinstance(error, govstore.BadRequestError)
    assert error.code == "malformed-request"
    assert error.errors == [govstore.FieldError("", "not a tier", parameter="tier")]
    assert "?tier: not a tier" in str(error)


def test_rate_limit_error_carries_retry_after() -> None:
    error = status_error_from_response(problem(429, "Too many requests", retry_after=7))

    assert isinstance(error, govstore.RateLimitError)
    assert error.retry_after == 7.0


def test_rate_limit_error_without_retry_after() -> None:
    error = status_error_from_response(problem(429, "Too many requests"))

    assert isinstance(error, govstore.RateLimitError)
    assert error.retry_after is None


def test_a_body_that_is_not_a_problem_document_still_gives_an_error() -> None:
    response = httpx.Response(502, text="<html>Bad gateway</html>")

    error = status_error_from_response(response)

    assert isinstance(error, govstore.ServerError)
    assert error.status == 502
    assert error.title == "Bad Gateway"
    assert error.detail == "<html>Bad gateway</html>"
    assert error.type == "about:blank"
    assert error.errors == []


def test_an_empty_error_body_uses_the_reason_phrase() -> None:
    error = status_error_from_response(httpx.Response(404))

    assert isinstance(error, govstore.NotFoundError)
    assert (error.title, error.detail, error.problem) == ("Not Found", None, {})


def test_malformed_problem_members_are_ignored() -> None:
    response = httpx.Response(
        400, json={"title": "Malformed request", "status": "four hundred", "errors": "nope"}
    )

    error = status_error_from_response(response)

    assert error.status == 400
    assert error.errors == []


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    in_thirty_seconds = email.utils.formatdate(time.time() + 30, usegmt=True)

    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert 28 <= (parse_retry_after(in_thirty_seconds) or 0) <= 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_exception_tree() -> None:
    assert issubclass(govstore.APIConnectionError, govstore.GovStoreError)
    assert issubclass(govstore.APITimeoutError, govstore.GovStoreError)
    assert issubclass(govstore.ServerError, govstore.APIStatusError)
    assert issubclass(govstore.RateLimitError, govstore.APIStatusError)
