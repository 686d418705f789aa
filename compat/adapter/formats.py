"""How a caller release serialises the session and the target JSON it passes to the plugin.

A replay must hand the plugin the bytes that release produced, and those differ by language
and SDK (docs/callers.md §2): Go's ``encoding/json`` writes compact PascalCase and escapes ``&``,
``<`` and ``>`` (so a stream URL's ``&cell-number=`` becomes ``\\u0026cell-number=``);
Python's ``json.dumps`` writes ``", "`` and ``": "`` separators and keeps the key case of the
boto3 response (lowercase for ECS). Adapters name one of these formats; they never carry code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from fake_plugin.wire import go_json

__all__ = [
    "SESSION_FORMATS",
    "TARGET_FORMATS",
    "SessionFields",
    "SessionFormat",
    "TargetFormat",
    "session_json",
    "target_json",
]

SessionFormat = Literal["go", "python-ecs-session", "python-ssm-response"]
TargetFormat = Literal["go", "go-sdk-v2-start-session-input", "python"]

#: Format name -> what it reproduces (shown in adapters/README.md and error hints).
SESSION_FORMATS: Mapping[SessionFormat, str] = {
    "go": "Go json.Marshal of the SDK Session struct (aws-sdk-go v1 ecs.Session, v2 "
    'types.Session): {"SessionId":…,"StreamUrl":…,"TokenValue":…}, compact, & < > escaped',
    "python-ecs-session": "Python json.dumps(response['session']) of boto3 ECS ExecuteCommand "
    '(AWS CLI, boto3 tools): {"sessionId": …, "streamUrl": …, "tokenValue": …}',
    "python-ssm-response": "Python json.dumps(response) of boto3 SSM StartSession, "
    'ResponseMetadata included: {"SessionId": …, "TokenValue": …, "StreamUrl": …, …}',
}
TARGET_FORMATS: Mapping[TargetFormat, str] = {
    "go": 'Go json.Marshal of map[string]string / struct{Target string}: {"Target":"…"}',
    "go-sdk-v2-start-session-input": "Go json.Marshal of aws-sdk-go-v2 ssm.StartSessionInput "
    '(ecsk): {"Target":"…","DocumentName":null,"Parameters":null}',
    "python": 'Python json.dumps({"Target": …}): {"Target": "…"}',
}
assert set(SESSION_FORMATS) == set(get_args(SessionFormat))
assert set(TARGET_FORMATS) == set(get_args(TargetFormat))


@dataclass(frozen=True)
class SessionFields:
    """The three fields of an ExecuteCommand ``session`` / StartSession response."""

    session_id: str
    stream_url: str
    token_value: str


def _go_json(value: Any) -> str:
    """Go ``encoding/json`` output: compact, UTF-8 kept, HTML-sensitive characters escaped."""
    return go_json(value).decode("utf-8")


def session_json(
    fmt: SessionFormat,
    session: SessionFields,
    response_metadata: Mapping[str, Any] | None = None,
) -> str:
    """``{session_json}`` as the release wrote it.

    ``response_metadata`` is boto3's ``ResponseMetadata``; only ``python-ssm-response`` keeps it
    (aws-gate dumps the whole response, docs/callers.md §2 aws-gate).
    """
    if fmt == "go":
        return _go_json(
            {
                "SessionId": session.session_id,
                "StreamUrl": session.stream_url,
                "TokenValue": session.token_value,
            }
        )
    if fmt == "python-ecs-session":
        # botocore fills dicts in the order of the ECS model's Session members.
        return json.dumps(
            {
                "sessionId": session.session_id,
                "streamUrl": session.stream_url,
                "tokenValue": session.token_value,
            }
        )
    response: dict[str, Any] = {
        "SessionId": session.session_id,
        "TokenValue": session.token_value,
        "StreamUrl": session.stream_url,
    }
    if response_metadata is not None:
        response["ResponseMetadata"] = dict(response_metadata)
    return json.dumps(response)


def target_json(
    fmt: TargetFormat,
    target: str,
    document: str | None = None,
    parameters: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """``{target_json}`` (argv[5]) as the release wrote it."""
    body: dict[str, Any] = {"Target": target}
    if fmt == "go-sdk-v2-start-session-input":
        body["DocumentName"] = document
        body["Parameters"] = (
            None if parameters is None else {k: list(v) for k, v in parameters.items()}
        )
        return _go_json(body)
    if document is not None:
        body["DocumentName"] = document
    if parameters is not None:
        body["Parameters"] = {k: list(v) for k, v in parameters.items()}
    return _go_json(body) if fmt == "go" else json.dumps(body)
