"""A fault of the fake agent itself reaches the cell's verdict as the kit's error, named."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.agent.errors import AgentError
from compat.agent.protocol import AgentSession
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells
from compat.verdict.rules import Evidence, Setup, judge
from fake_plugin.versions import NEWEST_RELEASE as NEWEST

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


@pytest.mark.slow
def test_an_agent_fault_in_a_matrix_cell_is_error_harness_error(
    fake_aws: FakeAWS, tmp_path: Path, monkeypatch
):
    """The runner's whole path: a replay's plugin meets a broken agent; the cell says so."""

    def broken(self, frame, now):
        raise RuntimeError("the agent broke on OpenDataChannel")

    monkeypatch.setattr(AgentSession, "receive_text", broken)
    cells = plan(
        load_adapters(),
        filters=Filters(adapters=("ecspresso/1.6.0",), scenarios=("shell",), releases=(NEWEST,)),
    )
    (result,) = run_cells(cells, fake=fake_aws, out_dir=tmp_path, jobs=1, timeout=20, install=False)
    assert (result.outcome, result.reason) == ("error", "harness-error")
    assert result.detail.startswith("fake agent fault in session ")
    assert result.detail.endswith(": RuntimeError('the agent broke on OpenDataChannel')")
