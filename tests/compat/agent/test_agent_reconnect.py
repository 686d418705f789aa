"""The agent drops the websocket once and serves the resumed connection (real websockets)."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from compat.agent.sessions import ResumeCall
from fake_plugin.wire import PayloadType

pytestmark = pytest.mark.integration


def _events(transcript):
    return [d["event"] for d in transcript["decisions"]]


def test_drop_before_exit_then_resume_with_the_new_token(
    make_agent, new_session, client_for, registry
):
    agent = make_agent()
    spec = new_session(
        kind="ssm", target="i-0123456789abcdef0", session_type="Standard_Stream",
        drop_websocket_once=True, access_key_id="AKIADROPPED",
    )  # fmt: skip
    first = client_for(agent, spec.session_id)
    first.open(spec.token_value, client_version=None)
    assert not agent.wait_dropped("AKIADROPPED", 0.0)
    assert first.output() == b"# "
    first.send(PayloadType.SIZE, b'{"cols":300,"rows":100}')
    first.send(PayloadType.OUTPUT, b"echo before\r")
    assert first.read_until(b"# ") == b"echo before\r\nbefore\r\n# "
    exit_message = first.send(PayloadType.OUTPUT, b"exit\r")
    with pytest.raises(ConnectionClosed) as closed:
        first.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert exit_message.sequence_number not in [a.sequence_number for a in first.acks]
    assert agent.wait_closed(spec.session_id, 0.2)["outcome"] == "not-resumed"
    # What the kit's Enter waits for (compat/runner/keystroke.py): this key's session dropped.
    assert agent.wait_dropped("AKIADROPPED", 5)
    assert not agent.wait_dropped("AKIAOTHER", 0.0)

    token = "TOKEN-resumed"  # what ResumeSession handed out
    registry.record_resume(spec.session_id, ResumeCall("127.0.0.1:1", token, None))
    stale = client_for(agent, spec.session_id)
    stale.open(spec.token_value)  # the old token no longer opens it
    with pytest.raises(ConnectionClosed):
        stale.next()

    second = client_for(agent, spec.session_id)
    second.open(token)
    second.seq = first.seq
    second.send(PayloadType.OUTPUT, b"exit\r", seq=exit_message.sequence_number)
    assert second.read_until(b"exit\r\n") == b"exit\r\n"
    assert second.closing_output() == ""

    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "completed"
    assert not agent.wait_dropped("AKIADROPPED", 0.0)  # resumed: nothing to press Enter for
    events = _events(transcript)
    assert events.index("websocket-dropped") < events.index("resume-refused")
    assert events.index("resume-refused") < events.index("resumed")
    assert events.count("websocket-dropped") == 1
