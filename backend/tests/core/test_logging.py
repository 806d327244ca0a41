"""The redaction filter: anything shaped like a secret never reaches a log line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app.core.logging import configure_logging, redact, request_id_var


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi_123456", "abc.def-ghi_123456"),
        ("headers={'x-api-key': 'sk-ant-api03-zzzzzzzzzz'}", "sk-ant-api03-zzzzzzzzzz"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("api_key=AIzaSyA-0123456789abcdefghijklmnop", "AIzaSyA-0123456789abcdefghijklmnop"),
        ("calling with key sk-proj-0123456789abcdef", "sk-proj-0123456789abcdef"),
        ("token bce-v3/ALTAK-abc/def0123", "bce-v3/ALTAK-abc/def0123"),
        ("GET /callback?state=s3cr3tstate&code=c0dec0de", "c0dec0de"),
        ("refresh_token: 1//0gAbCdEf", "1//0gAbCdEf"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "eyJzdWIiOiJ4In0"),
        ("Cookie: session_id=abcdef0123456789", "abcdef0123456789"),
        ("stored enc:v1:k1:AAAABBBBCCCC", "AAAABBBBCCCC"),
    ],
)
def test_secrets_are_redacted(line, secret):
    assert secret not in redact(line)


def test_ordinary_text_is_left_alone():
    assert (
        redact("account 42 of user alice is exhausted") == "account 42 of user alice is exhausted"
    )


def test_log_lines_are_json_with_the_request_id_and_no_secret():
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream)
    token = request_id_var.set("req-123")
    try:
        logging.getLogger("app.test").info("upstream said %s", "Bearer sk-live-0123456789abcdef")
        try:
            raise ValueError("api_key=sk-live-0123456789abcdef")
        except ValueError:
            logging.getLogger("app.test").exception("failed")
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert [entry["request_id"] for entry in lines] == ["req-123", "req-123"]
    assert "sk-live" not in stream.getvalue()
