"""A kept evidence folder shows why its cell failed: what the reason quotes is in its files.

Each case is judged by the real rules from evidence like a cell's; the folder is written by
``keep_evidence`` as the runner writes it. The detail line itself does not count: what it
quotes must be found in the rest of the folder (the plugin's record, the agent's transcript,
or ``verdict.json``'s facts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compat.evidence.keep import keep_evidence, verdict_facts
from compat.evidence.mask import Masker
from compat.verdict import reasons
from compat.verdict.rules import Evidence, Setup, judge
from tests.compat.test_verdict import (
    AGENT_TARGET,
    DROPPED,
    ECS_URL,
    KMS,
    RECONNECT,
    REFUSED,
    SEVEN,
    SHELL,
    SID,
    evidence,
    start,
    transcript,
)

_DECRYPT = [{"event": "kms-decrypt", "encryption_context": {"aws:ssm:TargetId": AGENT_TARGET}}]
_HANG = (
    "\nStarting session with SessionId: x\n# Cannot perform start session: websocket: close sent\n"
)

#: (reason, evidence, setup, what the folder must quote besides the detail)
CASES: list[tuple[str, Evidence, Setup, list[str]]] = [
    (
        "plugin-not-called",
        evidence(None, None, tool_exit=1, tool_stderr_tail="Invalid profile provided: default"),
        KMS,
        ['"exit_code": 1', "Invalid profile provided: default"],
    ),
    (
        "fake-aws-unsupported",
        evidence(None, None, tool_exit=1, unsupported=["ssm:GetConnectionStatus"]),
        KMS,
        ["ssm:GetConnectionStatus", '"exit_code": 1'],
    ),
    (
        "endpoint-ignored",
        evidence(start(SEVEN), None, refused_hosts=["ecs.us-east-1.amazonaws.com"] * 2),
        SHELL,
        ['"refused_hosts": [\n  "ecs.us-east-1.amazonaws.com"\n ]'],
    ),
    ("timeout", evidence(None, None, timed_out=True), SHELL, ['"timed_out": true']),
    (
        "inconclusive",
        evidence(None, None, records_incomplete=True),
        SHELL,
        ['"sigkill_needed": true'],
    ),
    (
        "tool-failed",
        evidence(start(SEVEN), transcript("completed"), tool_exit=3),
        SHELL,
        ['"exit_code": 3'],
    ),
    (
        "resume-failed",
        evidence(
            start(ECS_URL, stdout=_HANG),
            transcript("not-resumed", decisions=DROPPED),
            resume_calls=[REFUSED] * 6,
        ),
        RECONNECT,
        [
            "InvalidSignatureException: Credential should be scoped to correct service",
            '"answered": false',
            "Cannot perform start session: websocket: close sent",
        ],
    ),
    (
        "target-mismatch",
        evidence(
            start(SEVEN, target="ecs:c_t_"), transcript("kms-decrypt-failed", decisions=_DECRYPT)
        ),
        KMS,
        ['"target": "ecs:c_t_"', AGENT_TARGET],
    ),
]


def _keep(tmp_path: Path, ev: Evidence, setup: Setup) -> tuple[dict[str, Any], str]:
    """The kept ``verdict.json`` and every kept file's text (the detail left out)."""
    verdict = judge(ev, setup)
    record = tmp_path / "record.jsonl"
    record.write_text("".join(json.dumps(r) + "\n" for r in ev.records))
    paths = keep_evidence(
        tmp_path / "out", "t/v/s/1", Masker({}, sessions=[SID]), record=record,
        transcripts=ev.transcripts, verdict=verdict_facts(verdict, ev),
    )  # fmt: skip
    kept = json.loads((tmp_path / "out" / paths["verdict"]).read_text())
    texts = [(tmp_path / "out" / p).read_text() for k, p in paths.items() if k != "verdict"]
    texts.append(json.dumps({k: v for k, v in kept.items() if k != "detail"}, indent=1))
    return kept, "\n".join(texts)


@pytest.mark.parametrize(("code", "ev", "setup", "quoted"), CASES, ids=[c[0] for c in CASES])
def test_the_folder_quotes_what_the_reason_quotes(
    tmp_path: Path, code: str, ev: Evidence, setup: Setup, quoted: list[str]
) -> None:
    kept, folder = _keep(tmp_path, ev, setup)
    assert (kept["reason"], kept["outcome"]) == (code, str(reasons.get(code).outcome))
    assert kept["detail"]
    for fact in quoted:
        assert fact in folder, f"{code}: {fact!r} is not in the kept folder"


def test_resume_calls_are_kept_once_per_answer_without_tokens_or_times(tmp_path: Path) -> None:
    """The plugin retries ResumeSession as long as the cell lets it: a count would change
    from run to run; the distinct answers do not. A new token is never written out."""
    answered = {
        "endpoint": "127.0.0.1:5000",
        "token_value": "secret-token",
        "error": None,
        "at": 1.5,
    }
    ev = evidence(
        start(ECS_URL, stdout=_HANG),
        transcript("not-resumed", decisions=DROPPED),
        resume_calls=[REFUSED, answered, REFUSED, answered, REFUSED],
    )
    kept, folder = _keep(tmp_path, ev, RECONNECT)
    assert [c["answered"] for c in kept["resume_calls"]] == [False, True]
    assert "secret-token" not in folder and '"at"' not in folder


def test_a_port_forward_stopped_by_the_kit_says_so(tmp_path: Path) -> None:
    ev = evidence(
        start(SEVEN), transcript("client-disconnected"), port_roundtrip=True, tool_exit=-15
    )
    port = Setup(kms=False, session="port-forward", region="us-east-1", user_profile=None)
    verdict = judge(ev, port)
    facts = verdict_facts(verdict, ev)
    assert verdict.outcome == "pass"
    assert facts["tool"]["stopped_by_kit"] is True and facts["port_roundtrip"] is True
