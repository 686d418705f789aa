"""A fault of the fake agent itself reaches the cell's verdict as the kit's error, named."""

from __future__ import annotations

import pytest

from compat.agent.errors import AgentError
from compat.agent.protocol import AgentSession
from compat.verdict import Evidence, Setup, judge

pytestmark = pytest.mark.integration

SHELL = Setup(kms=False, session="shell", region="us-east-1", user_profile=None)


def test_an_agent_fault_is_error_harness_error_naming_it(
    make_agent, new_session, client_for, monkeypatch
):
    def broken(self, frame, now):
        raise RuntimeError("the agent broke on OpenDataChannel")

    monkeypatch.setattr(AgentSession, "receive_text", broken)
    agent = make_agent()
    spec = new_session(kind="ssm", target="i-0123456789abcdef0", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value, client_version=None)
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript is not None
    assert transcript["outcome"] == "agent-error"
    assert transcript["errors"] == []  # the client did nothing wrong
    with pytest.raises(AgentError, match=f"in session {spec.session_id}: RuntimeError"):
        agent.check_errors()
    agent.clear()  # the fault is this test's own: the fixture's check must not see it

    start = {
        "argv": ["session-manager-plugin", "{}", "us-east-1", "StartSession", "", "{}", "x"],
        "branch": "start-session",
        "parsed": {"session_id": spec.session_id},
    }
    verdict = judge(Evidence(records=[start], transcripts={spec.session_id: transcript}), SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "harness-error")
    assert verdict.detail == (
        f"fake agent fault in session {spec.session_id}: "
        "RuntimeError('the agent broke on OpenDataChannel')"
    )
