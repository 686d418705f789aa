"""The session plugin's phase: the scripted shell or the port echo, fed the client's stream data.

A part of :class:`compat.agent.protocol.AgentSession`, kept apart because it is what runs after
the handshake: the pty that is not ready at once (shell_unix.go:425-433), Size and the client's
flags, the shell's end and the drain of output before ``channel_closed`` (datachannel.go:387-402),
and the one websocket drop of the ``reconnect`` scenario.
"""

from __future__ import annotations

import copy
import json

from compat.agent.channel import Phase
from compat.agent.shell import ScriptedShell
from compat.agent.state import SessionState
from compat.agent.transcript import SessionOutcome
from fake_plugin.wire import Flag, PayloadType

__all__ = ["DROP_CLOSE_CODE", "StreamPhase"]

#: Close code of the drop: "going away", as a server restarting would send.
DROP_CLOSE_CODE = 1001


class StreamPhase:
    """The running session: what the client types, and what it sees back."""

    def __init__(self, state: SessionState) -> None:
        self._s = state
        self._shell: ScriptedShell | None = None
        self._drain_deadline = 0.0
        self._pending_outcome: tuple[SessionOutcome, str] = ("completed", "")

    def start(self, now: float) -> None:
        """Run the session plugin: the scripted shell, or the port echo."""
        spec = self._s.spec
        assert spec is not None
        self._s.phase = Phase.RUNNING
        if spec.session_type == "Port":
            self._s.transcript.decide(now, "port-forwarding-started", mode="basic", service="echo")
            return
        self._shell = ScriptedShell(spec.command)
        self._s.transcript.decide(
            now, "shell-started", command=spec.command, interactive=self._shell.interactive
        )
        step = self._shell.start()
        self._s.out.send(PayloadType.OUTPUT, step.output, now)
        if step.exited:
            self._drain(now, "completed", "")

    def process(self, payload_type: int, body: bytes, seq: int, now: float) -> bool:
        """One in-order stream message (``body`` decrypted); False: leave it unacked."""
        if self._s.phase is Phase.READY and self._s.session_type() != "NonInteractiveCommands":
            # The pty is not open yet: InputStreamMessageHandler returns ErrHandlerNotReady
            # for every payload type (shell_unix.go:425-433); handleStreamDataMessage then
            # returns nil without an ack (datachannel.go:695-699), and so the client resends.
            # NonInteractiveCommands has no pty and never says not ready: input is only
            # scanned for control signals and Size is ignored (shell_unix.go:428, 441-466).
            self._s.transcript.decide(now, "handler-not-ready", seq=seq, payload_type=payload_type)
            return False
        if payload_type == PayloadType.SIZE:
            self._on_size(body, now)
        elif payload_type == PayloadType.FLAG:
            self._on_flag(body, now)
        elif payload_type == PayloadType.OUTPUT:
            if self._drop_before(body, now):
                return False
            self._on_output(body, now)
        return True

    def tick(self, now: float, ready_at: float | None) -> bool:
        """Open the pty once it is due; end a drain that is over. True: the channel closed."""
        if self._s.phase is Phase.READY and ready_at is not None and now >= ready_at:
            # No draining of buffered input here: like the real agent, the next message in
            # sequence arrives as the client's resend and releases the buffer.
            self.start(now)
        unacked = self._s.out.unacked
        if self._s.phase is Phase.DRAINING and (unacked == 0 or now >= self._drain_deadline):
            outcome, output = self._pending_outcome
            self._s.close_channel(now, outcome, output, unacked=unacked)
            return True
        return False

    def _on_size(self, body: bytes, now: float) -> None:
        try:
            size = json.loads(body)
        except ValueError:
            size = None
        self._s.transcript.decide(now, "size", size=size)

    def _on_flag(self, body: bytes, now: float) -> None:
        value = int.from_bytes(body, "big") if len(body) == 4 else -1
        try:
            name = Flag(value).name
        except ValueError:
            name = "UNKNOWN"
        self._s.transcript.decide(now, "client-flag", flag=value, name=name)
        if value == Flag.TERMINATE_SESSION:
            self._s.close_channel(now, "client-terminated", "")

    def _on_output(self, body: bytes, now: float) -> None:
        if self._s.session_type() == "Port":
            # The "remote service" behind the port is an echo server.
            self._s.out.send(PayloadType.OUTPUT, body, now)
            return
        if self._shell is None:
            return
        step = self._shell.feed(body)
        self._s.out.send(PayloadType.OUTPUT, step.output, now)
        if step.exited:
            self._drain(now, "completed", "")

    def _drain(self, now: float, outcome: SessionOutcome, output: str) -> None:
        """PrepareToCloseChannel: the output still unacked has a while to be acked."""
        self._pending_outcome = (outcome, output)
        self._drain_deadline = now + self._s.config.drain_timeout_s
        self._s.phase = Phase.DRAINING
        self._s.transcript.decide(now, "session-ended", outcome=outcome)
        if self._s.out.unacked == 0:
            self._s.close_channel(now, outcome, output)

    def _drop_before(self, body: bytes, now: float) -> bool:
        """Drop the websocket instead of handling the input that would end the shell.

        Only once per session, and only when the control plane asked for it. Dropping at the
        last input the client types means nothing is typed while the connection is gone, so
        the outcome depends on the resume alone: the input stays unacked, the plugin resends
        it on the resumed connection, and the shell then exits as it would have.
        """
        spec, decisions = self._s.spec, self._s.transcript.decisions
        if spec is None or not spec.drop_websocket_once or self._s.awaiting_resume:
            return False
        if self._shell is None or any(d["event"] == "websocket-dropped" for d in decisions):
            return False
        if not copy.deepcopy(self._shell).feed(body).exited:
            return False
        self._s.awaiting_resume = True
        self._s.transcript.decide(now, "websocket-dropped", close_code=DROP_CLOSE_CODE)
        self._s.out.close(DROP_CLOSE_CODE, "")
        return True
