"""Verdicts from evidence: each reason code from the facts that reveal it, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from compat.agent.transcript import SCHEMA_VERSION
from compat.verdict.reasons import REASONS
from compat.verdict.rules import Evidence, Setup, is_probe, judge
from fake_plugin.releases import LEGACY_KMS_TEXT_NEW

SID = "ecs-execute-command-0123456789abcdef0"
AGENT_TARGET = "ecs:c_t_rid"
KMS = Setup(kms=True, session="shell", region="us-east-1", user_profile=None)
SHELL = Setup(kms=False, session="shell", region="us-east-1", user_profile=None)


def start(argv_tail: list[str], **fields: Any) -> dict[str, Any]:
    argv = ["session-manager-plugin", '{"SessionId": "x"}', "us-east-1", "StartSession", *argv_tail]
    parsed = {
        "region": "us-east-1",
        "profile": argv[4] if len(argv) > 4 else "",
        "target": fields.pop("target", AGENT_TARGET if len(argv) > 5 else None),
        "legacy_cli": len(argv) == 4,
        "session_id": SID,
    }
    record = {
        "program": "fake",
        "argv": argv,
        "argc": len(argv),
        "branch": "start-session-legacy" if len(argv) == 4 else "start-session",
        "parsed": parsed,
        "stdout": "",
        "stderr": "",
        "exit_code": 0,
    }
    record.update(fields)
    return record


SEVEN = ["", '{"Target":"ecs:c_t_rid"}', "https://ssm.us-east-1.amazonaws.com"]


def transcript(outcome: str, **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "session_id": SID,
        "outcome": outcome,
        "encrypted": fields.pop("encrypted", False),
        "closing_output": fields.pop("closing_output", ""),
        "decisions": fields.pop("decisions", []),
        "session": {"target": AGENT_TARGET},
        **fields,
    }


def evidence(record: dict[str, Any] | None, seen: dict[str, Any] | None, **kw: Any) -> Evidence:
    records = [] if record is None else [{"branch": "install-text", "argv": ["p"]}, record]
    transcripts = {} if seen is None else {SID: seen}
    return Evidence(
        records=records, transcripts=transcripts, tool_exit=kw.pop("tool_exit", 0), **kw
    )


def test_a_completed_encrypted_session_passes() -> None:
    verdict = judge(evidence(start(SEVEN), transcript("completed", encrypted=True)), KMS)
    assert (verdict.outcome, verdict.reason, verdict.warnings) == ("pass", None, ())


def test_kms_demanded_but_not_encrypted_is_never_a_pass() -> None:
    verdict = judge(evidence(start(SEVEN), transcript("completed")), KMS)
    assert (verdict.outcome, verdict.reason) == ("error", "inconclusive")


def test_four_argv_with_the_legacy_text_is_legacy_argv() -> None:
    seen = transcript("client-handshake-error", closing_output="… " + LEGACY_KMS_TEXT_NEW)
    verdict = judge(evidence(start([]), seen), KMS)
    assert (verdict.outcome, verdict.reason) == ("fail", "legacy-argv")
    assert verdict.remedy == REASONS["legacy-argv"].remedy


def test_an_empty_target_is_no_target() -> None:
    seen = transcript(
        "kms-decrypt-failed",
        decisions=[
            {"event": "kms-decrypt", "encryption_context": {"aws:ssm:TargetId": AGENT_TARGET}}
        ],
    )
    verdict = judge(evidence(start(SEVEN, target=""), seen), KMS)
    assert verdict.reason == "no-target"


def test_a_different_target_is_target_mismatch_with_both_in_the_detail() -> None:
    seen = transcript(
        "kms-decrypt-failed",
        decisions=[
            {"event": "kms-decrypt", "encryption_context": {"aws:ssm:TargetId": AGENT_TARGET}}
        ],
    )
    verdict = judge(evidence(start(SEVEN, target="ecs:c_t_"), seen), KMS)
    assert verdict.reason == "target-mismatch"
    assert "ecs:c_t_" in verdict.detail and AGENT_TARGET in verdict.detail


def test_no_credentials_for_kms_is_credentials_not_forwarded() -> None:
    seen = transcript(
        "client-handshake-error",
        closing_output="Failed to process action KMSEncryption: NoCredentialProviders: no valid "
        "providers in chain. Deprecated.",
    )
    assert judge(evidence(start(SEVEN), seen), KMS).reason == "credentials-not-forwarded"


def test_a_wrong_region_in_argv2_is_region_not_forwarded() -> None:
    record = start(SEVEN)
    record["parsed"]["region"] = "us-east-1"
    setup = Setup(kms=True, session="shell", region="eu-west-1", user_profile=None)
    seen = transcript("client-handshake-error", closing_output="NotFoundException: key")
    assert judge(evidence(record, seen), setup).reason == "region-not-forwarded"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (
            {"branch": "panic-target-assertion", "exit_code": 2, "stderr": "panic: x"},
            "plugin-panic",
        ),
        ({"branch": "response-decode-error"}, "bad-response"),
    ],
    ids=["panic", "bad-response"],
)
def test_plugin_branches_map_to_their_reason(fields: dict[str, Any], code: str) -> None:
    assert judge(evidence(start(SEVEN, **fields), None), KMS).reason == code


def test_the_env_var_name_on_an_old_plugin_is_env_mode_unsupported() -> None:
    record = start(SEVEN, branch="response-decode-error")
    record["argv"][1] = "AWS_SSM_START_SESSION_RESPONSE"
    assert judge(evidence(record, None), KMS).reason == "env-mode-unsupported"


def test_no_session_start_is_plugin_not_called_even_after_a_probe() -> None:
    verdict = judge(evidence(None, None, tool_exit=1, tool_stderr_tail="boom"), KMS)
    assert (verdict.outcome, verdict.reason) == ("fail", "plugin-not-called")
    assert "boom" in verdict.detail


def test_a_completed_session_with_a_failing_tool_is_tool_failed() -> None:
    verdict = judge(evidence(start(SEVEN), transcript("completed"), tool_exit=3), SHELL)
    assert verdict.reason == "tool-failed"


def test_proxy_refusals_for_the_cell_are_endpoint_ignored() -> None:
    ev = evidence(
        start(SEVEN), transcript("completed"), refused_hosts=["ecs.us-east-1.amazonaws.com"]
    )
    verdict = judge(ev, SHELL)
    assert verdict.reason == "endpoint-ignored"
    assert "ecs.us-east-1.amazonaws.com" in verdict.detail


def test_a_killed_cell_is_timeout() -> None:
    assert judge(evidence(None, None, timed_out=True), SHELL).reason == "timeout"
    assert judge(evidence(start(SEVEN), None, timed_out=True), SHELL).reason == "timeout"


def test_a_hang_from_the_plugins_own_sequence_race_blames_nobody() -> None:
    """Input lost because AWS's plugin numbered two messages alike is no fault of the caller:
    the timeout becomes ``inconclusive``, naming the race; a plain hang stays ``timeout``."""
    reused = {"event": "sequence-reused", "seq": 2, "kept_payload_type": 3}
    raced = transcript("client-disconnected", decisions=[reused])
    verdict = judge(evidence(start(SEVEN), raced, timed_out=True), SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "inconclusive")
    assert "sequence number 2" in verdict.detail
    plain = transcript("client-disconnected")
    assert judge(evidence(start(SEVEN), plain, timed_out=True), SHELL).reason == "timeout"


def test_a_session_without_a_transcript_is_inconclusive_not_pass() -> None:
    verdict = judge(evidence(start(SEVEN), None), SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "inconclusive")


def test_an_unknown_agent_outcome_is_inconclusive() -> None:
    verdict = judge(evidence(start(SEVEN), transcript("idle-timeout")), SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "inconclusive")


@pytest.mark.parametrize(
    ("tail", "warnings"),
    [
        (["", '{"Target":"x"}', "https://ecs.us-east-1.amazonaws.com"], ("endpoint-not-ssm",)),
        (["", '{"Target":"x"}', "us-east-1"], ("endpoint-not-ssm",)),
        (
            ["default", '{"Target":"x"}', "https://ssm.us-east-1.amazonaws.com"],
            ("profile-hardcoded-default",),
        ),
        (["", '{"Target":"x"}', "http://127.0.0.1:5000"], ()),
    ],
    ids=["ecs-url", "region", "default-profile", "configured-endpoint"],
)
def test_warnings_come_from_argv(tail: list[str], warnings: tuple[str, ...]) -> None:
    setup = Setup(
        kms=False, session="shell", region="us-east-1", user_profile=None,
        ssm_endpoints=("http://127.0.0.1:5000",),
    )  # fmt: skip
    verdict = judge(evidence(start(tail), transcript("completed")), setup)
    assert (verdict.outcome, verdict.warnings) == ("pass", warnings)


def test_port_forward_passes_only_when_bytes_came_back() -> None:
    setup = Setup(kms=False, session="port-forward", region="us-east-1", user_profile=None)
    seen = transcript("client-disconnected")
    assert judge(evidence(start(SEVEN), seen, port_roundtrip=True), setup).outcome == "pass"
    assert judge(evidence(start(SEVEN), seen, port_roundtrip=False), setup).outcome == "error"


def test_a_harness_error_is_error() -> None:
    verdict = judge(Evidence(harness_error="seed failed"), SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "harness-error")


def test_a_real_plugin_record_is_read_from_argv_and_the_cells_sessions() -> None:
    """The --real wrapper records argv only: target and session come from argv and the
    sessions the fake AWS started for the cell's key."""
    record = {
        "program": "real",
        "argv": start(SEVEN, target="ecs:c_t_")["argv"],
        "branch": None,
        "parsed": None,
        "exit_code": 0,
    }
    record["argv"][5] = '{"Target": "ecs:c_t_"}'
    seen = transcript(
        "kms-decrypt-failed",
        decisions=[
            {"event": "kms-decrypt", "encryption_context": {"aws:ssm:TargetId": AGENT_TARGET}}
        ],
    )
    ev = Evidence(records=[record], transcripts={SID: seen}, tool_exit=0, sessions=[SID])
    assert judge(ev, KMS).reason == "target-mismatch"


RECONNECT = Setup(
    kms=False, session="shell", region="us-east-1", user_profile=None,
    ssm_endpoints=("http://127.0.0.1:5000",), reconnect=True,
)  # fmt: skip
ECS_URL = ["", '{"Target":"ecs:c_t_rid"}', "http://127.0.0.1:5001"]
DROPPED = [{"event": "websocket-dropped"}]
REFUSED = {
    "endpoint": "127.0.0.1:5001",
    "token_value": None,
    "error": "InvalidSignatureException: Credential should be scoped to correct service: 'ecs'. ",
}


def test_a_resumed_session_passes_without_the_static_endpoint_warning() -> None:
    seen = transcript("completed", decisions=[*DROPPED, {"event": "resumed", "token_ok": True}])
    answered = {"endpoint": "127.0.0.1:5000", "token_value": "t2", "error": None}
    verdict = judge(evidence(start(SEVEN), seen, resume_calls=[answered]), RECONNECT)
    assert (verdict.outcome, verdict.reason, verdict.warnings) == ("pass", None, ())


def test_a_session_not_resumed_is_resume_failed_quoting_calls_and_plugin_output() -> None:
    record = start(
        ECS_URL,
        stdout="\nStarting session with SessionId: x\n# echo hi\r\nhi\r\n# "
        "Cannot perform start session: websocket: close sent\n",
    )
    seen = transcript("not-resumed", decisions=DROPPED)
    verdict = judge(evidence(record, seen, resume_calls=[REFUSED] * 6), RECONNECT)
    assert (verdict.outcome, verdict.reason, verdict.warnings) == ("fail", "resume-failed", ())
    assert verdict.detail == (
        "6 ResumeSession call(s) at argv[6] 'http://127.0.0.1:5001', 0 answered, refused: "
        "InvalidSignatureException: Credential should be scoped to correct service: 'ecs'.; "
        "the plugin printed 'Cannot perform start session: websocket: close sent'"
    )


def test_resume_failed_wins_over_the_timeout_of_a_silent_hang() -> None:
    seen = transcript("not-resumed", decisions=DROPPED)
    region = ["", '{"Target":"ecs:c_t_rid"}', "us-east-1"]
    record = start(region, stdout="\nStarting session with SessionId: x\n# echo hi\r\nhi\r\n# ")
    verdict = judge(evidence(record, seen, timed_out=True), RECONNECT)
    assert (verdict.outcome, verdict.reason) == ("fail", "resume-failed")
    assert verdict.detail == (
        "no ResumeSession call reached the fake AWS (argv[6] 'us-east-1'); the plugin printed "
        "nothing after the drop; it was still running when the cell was stopped"
    )


def test_outside_the_reconnect_scenario_a_drop_is_not_judged() -> None:
    verdict = judge(evidence(start(SEVEN), transcript("completed", decisions=DROPPED)), SHELL)
    assert (verdict.outcome, verdict.reason) == ("pass", None)


def _cell(
    column: str, outcome: str, reason: str | None, warnings: list[str], row: str = "t/v"
) -> dict[str, Any]:
    return {"row": row, "column": column, "outcome": outcome, "reason": reason,
            "warnings": warnings}  # fmt: skip


@pytest.mark.parametrize(
    ("reconnect", "kept"),
    [
        (_cell("reconnect/1.2.677.0", "fail", "resume-failed", []), []),
        (_cell("reconnect/1.2.677.0", "pass", None, []), []),
        (_cell("reconnect/1.2.677.0", "error", "inconclusive", []), ["endpoint-not-ssm"]),
        (_cell("reconnect/1.2.234.0", "fail", "resume-failed", []), []),
        (_cell("reconnect/1.2.677.0", "pass", None, [], row="t/w"), ["endpoint-not-ssm"]),
    ],
    ids=["resume-failed", "resumed", "no-proof", "other-release", "other-row"],
)
def test_the_static_warning_stays_only_where_no_reconnect_cell_proved_it(
    reconnect: dict[str, Any], kept: list[str]
) -> None:
    from compat.verdict.rules import settle_endpoint_warnings  # noqa: PLC0415

    shell = _cell("shell/1.2.677.0", "pass", None, ["endpoint-not-ssm"])
    settled = settle_endpoint_warnings([shell, reconnect])
    assert settled[0]["warnings"] == kept
    assert settled[1] == reconnect
    assert shell["warnings"] == ["endpoint-not-ssm"]  # the input is not changed


def test_the_resume_call_to_a_region_refused_by_the_proxy_is_not_endpoint_ignored() -> None:
    region = ["", '{"Target":"ecs:c_t_rid"}', "us-east-1"]
    seen = transcript("not-resumed", decisions=DROPPED)
    verdict = judge(evidence(start(region), seen, refused_hosts=["us-east-1"]), RECONNECT)
    assert verdict.reason == "resume-failed"
    other = judge(evidence(start(region), seen, refused_hosts=["ecs.us-east-1.amazonaws.com"]),
                  RECONNECT)  # fmt: skip
    assert other.reason == "endpoint-ignored"


def real_record(*args: str) -> dict[str, Any]:
    """A record as the --real wrapper writes it: argv and exit, no branch, nothing parsed."""
    argv = ["session-manager-plugin", *args]
    return {"program": "real", "argv": argv, "argc": len(argv), "branch": None, "parsed": None}


def test_a_real_version_probe_then_no_start_is_plugin_not_called() -> None:
    """aws-gate runs ``--version`` first (issue 9 item 3): with a real binary's record, which
    has no branch, that probe is still no session start."""
    ev = Evidence(records=[real_record("--version")], tool_exit=1, tool_stderr_tail="boom")
    verdict = judge(ev, KMS)
    assert (verdict.outcome, verdict.reason) == ("fail", "plugin-not-called")
    assert verdict.detail == "tool exit 1: boom"


@pytest.mark.parametrize(
    ("args", "probe"),
    [
        ((), True),  # the AWS CLI's install check: the plugin run bare
        (("--version",), True),
        (("--version", "x"), False),  # "Unknown operation --version": a bad call, not a probe
        (("foo",), False),
        (('{"SessionId": "x"}', "us-east-1", "StartSession"), False),
    ],
)
def test_probes_are_told_from_argv_alone(args: tuple[str, ...], probe: bool) -> None:
    assert is_probe(real_record(*args)) is probe
    fake = {**real_record(*args), "program": "fake", "branch": "start-session"}
    assert is_probe(fake) is probe  # the fake's branch plays no part


def test_a_killed_group_without_a_start_is_never_plugin_not_called() -> None:
    ev = Evidence(records=[real_record("--version")], tool_exit=-15, records_incomplete=True)
    assert (judge(ev, KMS).outcome, judge(ev, KMS).reason) == ("error", "inconclusive")


def test_an_agent_fault_is_the_kits_error_naming_it() -> None:
    seen = transcript("agent-error", faults=["RuntimeError('boom')", "Traceback ..."])
    verdict = judge(evidence(start(SEVEN), seen), KMS)
    assert (verdict.outcome, verdict.reason) == ("error", "harness-error")
    assert verdict.detail == f"fake agent fault in session {SID}: RuntimeError('boom')"


def test_a_transcript_of_another_schema_version_is_named_not_misread() -> None:
    seen = transcript("completed") | {"schema_version": 99}
    verdict = judge(evidence(start(SEVEN), seen), KMS)
    assert (verdict.outcome, verdict.reason) == ("error", "harness-error")
    assert "schema_version 99; this smp-compat reads" in verdict.detail
