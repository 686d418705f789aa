"""The verdict vocabulary: outcomes and reason codes."""

from __future__ import annotations

from typing import get_args

import pytest

from compat.verdict import reasons
from compat.verdict.errors import UnknownReasonError
from compat.verdict.reasons import REASONS, Outcome, ReasonCode

REQUIRED_FAILURES = [
    "legacy-argv",
    "no-target",
    "target-mismatch",
    "plugin-panic",
    "bad-response",
    "env-mode-unsupported",
    "credentials-not-forwarded",
    "region-not-forwarded",
    "plugin-not-called",
    "tool-failed",
    "endpoint-ignored",
    "timeout",
]
REQUIRED_WARNINGS = ["endpoint-not-ssm", "profile-hardcoded-default"]


def test_outcome_values() -> None:
    assert [o.value for o in Outcome] == ["pass", "fail", "n/a", "skipped", "error"]


@pytest.mark.parametrize("code", REQUIRED_FAILURES)
def test_required_failure_codes(code: str) -> None:
    reason = reasons.get(code)
    assert reason.severity == "failure"
    assert reason.outcome is Outcome.FAIL


@pytest.mark.parametrize("code", REQUIRED_WARNINGS)
def test_required_warning_codes(code: str) -> None:
    assert reasons.get(code).severity == "warning"


@pytest.mark.parametrize("code", list(REASONS))
def test_every_reason_is_one_line_kebab_case_with_a_remedy(code: str) -> None:
    reason = REASONS[code]
    assert reason.code == code
    assert code == code.lower() and " " not in code and "_" not in code
    for text in (reason.explanation, reason.remedy):
        assert text and "\n" not in text
        assert text.endswith((".", ")"))


def test_nothing_unknown_is_a_pass() -> None:
    """Only warnings map to pass: skips, n/a and errors never do."""
    for reason in REASONS.values():
        if reason.outcome is Outcome.PASS:
            assert reason.severity == "warning"
    assert reasons.get("inconclusive").outcome is Outcome.ERROR


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        pytest.param(
            "legacy-argv", '{"Target": "ecs:<cluster>_<taskId>_<runtimeId>"}', id="legacy"
        ),
        pytest.param("legacy-argv", "aws ecs execute-command", id="legacy-reference"),
        pytest.param("env-mode-unsupported", "1.2.497.0", id="env-mode-gate"),
        pytest.param("profile-hardcoded-default", '""', id="empty-profile"),
        pytest.param("endpoint-not-ssm", "https://ssm.<region>.amazonaws.com", id="ssm-endpoint"),
    ],
)
def test_remedies_name_the_fix(code: str, fragment: str) -> None:
    assert fragment in reasons.get(code).remedy


@pytest.mark.parametrize(
    "code", ["legacy-argv", "no-target", "target-mismatch", "endpoint-not-ssm"]
)
def test_research_backed_reasons_cite_it(code: str) -> None:
    assert ".md §" in reasons.get(code).citation


def test_unknown_code_lists_known() -> None:
    with pytest.raises(UnknownReasonError, match="known: legacy-argv"):
        reasons.get("legacy")


def test_the_reason_code_type_names_every_reason_in_order() -> None:
    assert list(get_args(ReasonCode)) == list(REASONS)
