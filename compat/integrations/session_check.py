"""Check one caller session from your own tests: seed a scenario, run the tool, read the verdict.

This is the harness behind the pytest plugin
(``compat/integrations/pytest_plugin.py`` only wires it to
fixtures), and it works without pytest, as pytest-httpserver's ``HTTPServer`` does. A
:class:`Harness` seeds the fake AWS the way a matrix cell does, builds a sandbox with the
fake plugin (a chosen release) or a recording wrapper of a real one first on PATH, and a
:class:`PluginSession` reads the evidence back: the plugin's records, the fake agent's
transcripts, the proxy's refusals for the sandbox's key. Seeding, keys, sandbox, input, time
limit and collecting are the very code a matrix cell runs (``compat.evidence``,
``compat.runner.sandbox``, ``compat.runner.session``, ``compat.runner.observe``), and the
verdict is :func:`compat.verdict.rules.judge`'s on :func:`compat.evidence.judge_setup`, so it is
the verdict ``smp-compat run`` would give.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compat.adapter.model import Kind
from compat.errors import UserError
from compat.evidence import judge_setup, seeded, session_keys, session_marker, shell_input
from compat.fakeaws import Credentials, FakeAWS
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.integrations.errors import SessionAssertionError
from compat.integrations.session_facts import SessionFacts
from compat.plan.scenario import Scenario, get
from compat.runner.observe import ToolEnd, observe, tool_output
from compat.runner.process import run_process
from compat.runner.sandbox import Sandbox, scenario_sandbox
from compat.runner.session import local_port, time_limit, tool_input
from compat.verdict.reasons import Outcome
from compat.verdict.rules import Evidence, Setup, Verdict, judge, session_starts
from fake_plugin.versions import DEFAULT_RELEASE

__all__ = [
    "DEFAULT_RELEASE",
    "Harness",
    "PluginSession",
    "SessionAssertionError",
    "ToolRun",
    "running_fake_aws",
]


def running_fake_aws() -> FakeAWS | None:
    """The FakeAWS already running in this process, if any: moto's state is process-wide, so
    a suite that started one (e.g. for its own tests) must share it rather than start another."""
    return FakeAWS.running()


@dataclass(frozen=True)
class ToolRun:
    """How the tool run by :meth:`PluginSession.run` ended, and what it printed."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float


class PluginSession(SessionFacts):
    """One seeded scenario with its sandbox; made by :meth:`Harness.session`.

    Build the tool's command from the attributes (``cluster``, ``task_id``, ``container``,
    ``instance_id``, ``region``, ``profile``…), run it with :meth:`run` (or call your code
    in-process inside :meth:`environ`), then assert on what the plugin saw.
    """

    def __init__(
        self,
        fake: FakeAWS,
        scenario: Scenario,
        kind: Kind,
        release: str | None,
        sandbox: Sandbox,
        target: EcsTarget | Ec2Target,
        credentials: Credentials,
        timeout: float,
    ) -> None:
        self.fake = fake
        self.scenario = scenario
        self.kind = kind
        #: The emulated plugin release, ``None`` with a real plugin.
        self.release = release
        self.sandbox = sandbox
        self.target = target
        self.credentials = credentials
        self.timeout = timeout
        self.tool_exit: int | None = None
        self.timed_out = False
        self.port_roundtrip: bool | None = None
        self._stderr_tail = ""
        self._killed = False
        #: Collected once per tool run (collecting waits for what is still owed).
        self._evidence: Evidence | None = None
        self.marker = session_marker(credentials)
        self.local_port = local_port(scenario)

    # --- what the tool needs to know ---------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The tool's environment: sandbox HOME and AWS files, fake AWS, plugin on PATH."""
        return dict(self.sandbox.env)

    @property
    def shell_input(self) -> bytes:
        """What a user types in the shell session: a marker line, then ``exit``."""
        return shell_input(self.marker)

    # --- running the tool --------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ToolRun:
        """Run the tool as a subprocess in the sandbox and remember its exit for the verdict.

        ``argv[0]`` is looked up on the sandbox's PATH (the plugin's bin dir, then the
        harness's tool dirs). ``stdin`` defaults to :attr:`shell_input`, kept open until the
        tool exits, because a plugin ends a shell session at EOF. For ``port-forward`` the
        harness sends bytes through :attr:`local_port` and stops the tool once they echo.
        """
        self._evidence = None
        program = shutil.which(argv[0], path=self.sandbox.env["PATH"]) or argv[0]
        work = cwd or self.sandbox.root / "work"
        work.mkdir(parents=True, exist_ok=True)
        out, err = self.sandbox.root / "tool-stdout.txt", self.sandbox.root / "tool-stderr.txt"
        try:
            finished = run_process(
                [program, *argv[1:]],
                env={**self.sandbox.env, **(env or {})},
                cwd=work,
                stdout=out,
                stderr=err,
                stdin_script=self.shell_input if stdin is None else stdin,
                timeout=timeout or time_limit(self.timeout, self.scenario),
                probe=tool_input(self.marker, self.local_port).probe,
            )
        except OSError as exc:
            raise UserError(f"cannot run {argv[0]}: {exc.strerror}") from None
        stdout, stderr = tool_output(out, err)
        end = ToolEnd.of(finished, stdout, stderr)
        self.tool_exit, self.timed_out = end.exit_code, end.timed_out
        self.port_roundtrip, self._killed = end.port_roundtrip, end.killed
        self._stderr_tail = end.error_line
        return ToolRun(finished.exit_code, stdout, stderr, finished.timed_out, finished.duration_s)

    @contextlib.contextmanager
    def environ(self) -> Iterator[dict[str, str]]:
        """``os.environ`` set to the sandbox's environment while your code runs in-process
        (inherited ``AWS_*`` removed), restored afterwards. Call :meth:`tool_exited` with your
        code's exit status if the verdict should see it."""
        saved = dict(os.environ)
        boto3: Any = sys.modules.get("boto3")
        # boto3's module-level session read the old environment once; start a fresh one.
        default_session = getattr(boto3, "DEFAULT_SESSION", None)
        if boto3 is not None:
            boto3.DEFAULT_SESSION = None
        self._evidence = None
        os.environ.clear()
        os.environ.update({k: v for k, v in saved.items() if not k.startswith("AWS_")})
        os.environ.update(self.sandbox.env)
        try:
            yield dict(os.environ)
        finally:
            self._evidence = None
            os.environ.clear()
            os.environ.update(saved)
            if boto3 is not None:
                boto3.DEFAULT_SESSION = default_session

    def tool_exited(self, code: int | None) -> None:
        """Record the exit status of a tool run in-process (see :meth:`environ`)."""
        self.tool_exit = code
        self._evidence = None

    # --- the evidence ------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """Every plugin start recorded in this sandbox, oldest first (README "The record"),
        once every plugin still running has recorded its end (as for :meth:`verdict`)."""
        return [dict(r) for r in self.evidence().records]

    def starts(self) -> list[dict[str, Any]]:
        """The session attempts: records other than a caller's probe (bare or ``--version``)."""
        return [dict(r) for r in session_starts(self.evidence().records)]

    def evidence(self) -> Evidence:
        """The records, the agent's transcripts of this sandbox's sessions, the proxy's
        refusals for its key and the tool's exit, as a matrix cell collects them."""
        if self._evidence is None:
            end = ToolEnd(
                self.tool_exit, self.timed_out, self.port_roundtrip, self._stderr_tail, self._killed
            )
            self._evidence = observe(
                self.fake, self.sandbox.record_file, self.credentials.access_key_id, end
            )
        return self._evidence

    def setup(self) -> Setup:
        """What the scenario arranged, for :func:`compat.verdict.rules.judge`."""
        return judge_setup(self.scenario, self.fake)

    def verdict(self) -> Verdict:
        """The verdict a matrix cell would get: outcome, reason, explanation, remedy."""
        return judge(self.evidence(), self.setup())

    # --- assertions --------------------------------------------------------------------

    def _fail(self, what: str, verdict: Verdict | None = None) -> SessionAssertionError:
        verdict = verdict or self.verdict()
        said = f"verdict: {verdict.outcome} {verdict.reason or ''}".rstrip()
        if verdict.reason:
            said += f" ({verdict.explanation} Fix: {verdict.remedy})"
        if verdict.detail:
            said += f"; seen: {verdict.detail}"
        return SessionAssertionError(f"{what}; {said}")

    def assert_started_with(
        self, argc: int | None = None, *, region: str | None = None, target: str | None = None
    ) -> dict[str, Any]:
        """The last session start had ``argc`` elements (argv[0] included), and the region
        and Target given; returns that record."""
        starts = self.starts()
        if not starts:
            raise self._fail("the plugin was never started for a session")
        start = starts[-1]
        argv = list(start.get("argv") or [])
        if argc is not None and len(argv) != argc:
            raise self._fail(f"the plugin was started with {len(argv)} arguments, not {argc}")
        parsed = start.get("parsed") or {}
        if region is not None and parsed.get("region") != region:
            raise self._fail(f"argv[2] is {parsed.get('region')!r}, not {region!r}")
        if target is not None and parsed.get("target") != target:
            raise self._fail(f"the Target in argv[5] is {parsed.get('target')!r}, not {target!r}")
        return start

    def assert_encrypted(self) -> None:
        """The agent saw a completed, KMS-encrypted session."""
        evidence = self.evidence()
        for transcript in evidence.transcripts.values():
            if transcript.get("encrypted") and transcript.get("outcome") == "completed":
                return
        raise self._fail("no KMS-encrypted session completed", judge(evidence, self.setup()))

    def assert_verdict(self, outcome: str, reason: str | None = None) -> Verdict:
        """The verdict has this outcome (and reason); returns it."""
        verdict = self.verdict()
        if str(verdict.outcome) != outcome or (reason is not None and verdict.reason != reason):
            expected = f"{outcome} {reason or ''}".rstrip()
            raise self._fail(f"expected {expected}", verdict)
        return verdict

    def assert_passes(self) -> Verdict:
        """The verdict is ``pass`` (warnings allowed: see ``verdict().warnings``)."""
        return self.assert_verdict(str(Outcome.PASS))


class Harness:
    """Makes :class:`PluginSession` objects on one running :class:`FakeAWS`.

    ``tool_dirs`` go on the sandbox's PATH after the plugin's bin dir; by default the
    directory of this interpreter, where a virtualenv keeps your tool's console scripts.
    """

    def __init__(
        self,
        fake: FakeAWS,
        work_dir: Path,
        *,
        release: str = DEFAULT_RELEASE,
        real_plugin: Path | None = None,
        tool_dirs: Sequence[Path] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.fake = fake
        self.work_dir = work_dir
        self.release = release
        self.real_plugin = real_plugin
        self.tool_dirs = (
            tuple(tool_dirs) if tool_dirs is not None else (Path(sys.executable).parent,)
        )
        self.timeout = timeout
        self._count = 0

    def session(
        self,
        scenario: str = "kms",
        *,
        kind: Kind = "ecs-exec",
        release: str | None = None,
        reach: str = "endpoint",
        profile_via: str = "flag",
        region_via: str = "flag",
    ) -> PluginSession:
        """Seed ``scenario`` (a name from ``compat.plan.scenario``) for a ``kind`` tool and build
        its sandbox. ``reach="proxy"`` lets the tool's own clients use the proxy for any AWS
        host (SDKs that ignore ``AWS_ENDPOINT_URL``, as an adapter's ``reach``).
        ``profile_via``/``region_via`` say how your tool learns the user's choice: ``"flag"``
        (you pass :attr:`PluginSession.profile`) or ``"env"`` (``AWS_PROFILE``/``AWS_REGION``
        in the sandbox's environment), as in an adapter."""
        chosen = get(scenario)
        if kind not in chosen.kinds:
            raise UserError(f"scenario {scenario!r} applies to {' or '.join(chosen.kinds)} tools")
        if reach not in ("endpoint", "proxy"):
            raise UserError(f"reach {reach!r}: expected 'endpoint' or 'proxy'")
        for name, via in (("profile_via", profile_via), ("region_via", region_via)):
            if via not in ("flag", "env"):
                raise UserError(f"{name} {via!r}: expected 'flag' or 'env'")
        fake = self.fake
        with seeded(fake, chosen, kind) as target:
            pass  # nothing shared is held: a harness runs one session at a time
        # As a run variant's cell: only the plugin's hosts may use the proxy, unless asked.
        creds = session_keys(fake, chosen, plugin_only=reach == "endpoint")
        self._count += 1
        root = self.work_dir / f"{self._count:03d}-{chosen.name}"
        emulated = None if self.real_plugin is not None else (release or self.release)
        sandbox = scenario_sandbox(
            root,
            fake,
            creds,
            chosen,
            profile_via=profile_via,
            region_via=region_via,
            release=emulated,
            real_plugin=self.real_plugin,
            tool_dirs=self.tool_dirs,
        )
        return PluginSession(fake, chosen, kind, emulated, sandbox, target, creds, self.timeout)
