"""The verdict vocabulary: outcomes, and reason codes with an explanation and a concrete remedy.

The runner decides a cell's outcome from evidence; this module only says what each outcome and
reason means and what a maintainer should change. Codes are kebab-case and stable: reports,
baselines and badges key on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from compat.verdict.errors import UnknownReasonError

__all__ = ["REASONS", "Outcome", "Reason", "ReasonCode", "Severity", "get"]


class Outcome(StrEnum):
    """What a cell came to. Anything the evidence cannot prove is never ``PASS``."""

    PASS = "pass"
    FAIL = "fail"
    #: The scenario does not apply to this tool (no port forwarding, wrong kind of target).
    NOT_APPLICABLE = "n/a"
    #: The tool could not be tried here (not installed, wrong version installed).
    SKIPPED = "skipped"
    #: The kit could not reach a verdict (its own fault, or evidence it cannot read).
    ERROR = "error"


#: Every reason code, so a verdict naming one is checked by mypy (each has its entry in
#: :data:`REASONS`, in the same order; a test keeps the two equal).
ReasonCode = Literal[
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
    "resume-failed",
    "endpoint-not-ssm",
    "profile-hardcoded-default",
    "requirement-missing",
    "version-mismatch",
    "unsupported-scenario",
    "harness-error",
    "fake-aws-unsupported",
    "inconclusive",
]

#: ``failure``: makes a cell ``fail``; ``warning``: noted on a cell that otherwise passes;
#: ``skip``/``not-applicable``/``error``: explain the matching outcome.
Severity = Literal["failure", "warning", "skip", "not-applicable", "error"]

_OUTCOME_OF: Mapping[Severity, Outcome] = {
    "failure": Outcome.FAIL,
    "warning": Outcome.PASS,
    "skip": Outcome.SKIPPED,
    "not-applicable": Outcome.NOT_APPLICABLE,
    "error": Outcome.ERROR,
}

#: The argv the plugin needs, as ``aws ecs execute-command`` builds it (docs/plugin.md §1.2).
_GOOD_ARGV = (
    '<session json> <region> StartSession <profile or ""> '
    '{"Target": "ecs:<cluster>_<taskId>_<runtimeId>"} <SSM endpoint>'
)


@dataclass(frozen=True)
class Reason:
    """One reason code: what happened, why it matters, and what to change."""

    code: ReasonCode
    severity: Severity
    #: One line: what was observed and why it breaks (or risks breaking) the session.
    explanation: str
    #: One line naming the fix concretely.
    remedy: str
    #: Where the fact comes from (a docs/ page, an upstream issue), or "".
    citation: str = ""

    @property
    def outcome(self) -> Outcome:
        """The outcome a cell gets when this is its main reason."""
        return _OUTCOME_OF[self.severity]


def _reasons(*items: Reason) -> Mapping[str, Reason]:
    return {r.code: r for r in items}


REASONS: Mapping[str, Reason] = _reasons(
    # -- failures ------------------------------------------------------------------------------
    Reason(
        "legacy-argv",
        "failure",
        "The plugin got 4 argv entries (<response> <region> StartSession), so it treats the "
        'caller as an old AWS CLI and refuses KMS: "Installed version of CLI does not support '
        'Session Manager encryption feature".',
        f"Pass profile, target and endpoint as argv[4..6]: {_GOOD_ARGV}, as `aws ecs "
        "execute-command` does (fixed this way in kayac/ecspresso#322).",
        "docs/plugin.md §2.1; docs/callers.md §0; aws/copilot-cli#2711, kayac/ecspresso#320",
    ),
    Reason(
        "no-target",
        "failure",
        "argv[5] is missing, so the plugin puts an empty aws:ssm:TargetId into the KMS "
        "encryption context and the agent cannot decrypt the data key.",
        'Pass argv[5] = {"Target": "ecs:<cluster>_<taskId>_<runtimeId>"} (ECS; runtimeId from '
        'DescribeTasks) or {"Target": "<instance id>"} (EC2), after the profile in argv[4].',
        "docs/plugin.md §2.3; docs/callers.md §0",
    ),
    Reason(
        "target-mismatch",
        "failure",
        "argv[5]'s Target differs from the target the agent knows, so KMS Decrypt on the agent "
        "fails with InvalidCiphertextException.",
        "Build the Target as ecs:<cluster name>_<task id>_<container runtimeId> from the last "
        "segments of clusterArn/taskArn and DescribeTasks' runtimeId (not ARNs, not an empty id).",
        "docs/plugin.md §2.3; yukiarrr/ecsk#1",
    ),
    Reason(
        "plugin-panic",
        "failure",
        "The plugin panicked (exit 2): argv[5] was not JSON with a string Target, or the "
        "response lacked SessionId/StreamUrl/TokenValue.",
        'Pass argv[5] as JSON with a string "Target" and argv[1] as the full session response '
        "(SessionId, StreamUrl, TokenValue).",
        "docs/plugin.md §1.1",
    ),
    Reason(
        "bad-response",
        "failure",
        'argv[1] could not be used as a StartSession response ("Cannot perform start session: …").',
        "Pass json.dumps(response['session']) (ECS) or the StartSession response (SSM) as "
        "argv[1], unmodified.",
        "docs/plugin.md §1.1",
    ),
    Reason(
        "env-mode-unsupported",
        "failure",
        "argv[1] names AWS_SSM_START_SESSION_RESPONSE but the plugin is older than 1.2.536.0, "
        "so it reads the variable name as JSON and stops.",
        "Run `session-manager-plugin --version` first and use the env-var mode only when it is "
        "greater than 1.2.497.0, as the AWS CLI does; else pass the JSON in argv[1].",
        "docs/plugin.md §1.2",
    ),
    Reason(
        "credentials-not-forwarded",
        "failure",
        "The plugin's KMS client found no usable credentials: the profile the user chose did "
        'not reach argv[4], or argv[4] named a profile ("default") that hides the env keys.',
        'Pass the profile the user chose as argv[4], and "" when none was chosen (never a '
        'made-up "default"), so env credentials keep working.',
        "docs/plugin.md §1.3; docs/callers.md §0",
    ),
    Reason(
        "region-not-forwarded",
        "failure",
        "argv[2] is not the region the user chose, so the plugin asks KMS (and SSM) in the "
        "wrong region.",
        "Pass the region the session was started in (the client's resolved region) as argv[2].",
        "docs/plugin.md §1.3",
    ),
    Reason(
        "plugin-not-called",
        "failure",
        "The tool exited without ever starting session-manager-plugin.",
        "Check the tool's own error output (evidence: tool stderr); it may look for the plugin "
        "outside PATH (e.g. ~/.aws-gate/bin, an embedded copy) or fail an API call first.",
        "docs/callers.md §3 item 4",
    ),
    Reason(
        "tool-failed",
        "failure",
        "The tool exited non-zero before or after the session, for a reason of its own.",
        "Read the tool's stderr in the evidence; fix the flag, profile or API call it reports.",
    ),
    Reason(
        "endpoint-ignored",
        "failure",
        "The tool (or the plugin it started) tried to reach a real AWS host instead of the "
        "configured endpoint; the proxy blocked it.",
        "Honour AWS_ENDPOINT_URL / --endpoint-url in the tool's AWS clients (aws-sdk-go v2 "
        'config >= 1.21, botocore >= 1.31), or declare reach = "proxy" in the adapter.',
        "docs/ecosystem.md §2",
    ),
    Reason(
        "timeout",
        "failure",
        "The cell did not finish in time; its process group was killed.",
        "Check that the tool needs no prompt or TTY it did not get (adapter `tty`, flags that "
        "skip menus) and that it exits when the session closes.",
    ),
    Reason(
        "resume-failed",
        "failure",
        "The agent dropped the websocket once mid-session and the plugin could not resume: "
        "it sends ResumeSession to argv[6], which was not an SSM endpoint, so the session hung "
        '(the next keystroke ends it with "Cannot perform start session: websocket: close '
        'sent").',
        "Pass the SSM client's endpoint as argv[6] (https://ssm.<region>.amazonaws.com, or the "
        "configured SSM endpoint), never the ECS client's, a poll endpoint or a region.",
        "https://github.com/aws/session-manager-plugin/blob/1.2.677.0/src/"
        "sessionmanagerplugin/session/sessionhandler.go (ResumeSessionHandler)",
    ),
    # -- warnings ------------------------------------------------------------------------------
    Reason(
        "endpoint-not-ssm",
        "warning",
        "argv[6] is not an SSM endpoint (an ECS URL, a poll endpoint, a region), so the "
        "plugin's ResumeSession/TerminateSession after a network drop go to the wrong service.",
        "Pass the SSM client's endpoint (https://ssm.<region>.amazonaws.com or the configured "
        "SSM endpoint) as argv[6].",
        "docs/plugin.md §1.3; docs/callers.md §3 item 3",
    ),
    Reason(
        "profile-hardcoded-default",
        "warning",
        'argv[4] is "default" although the user chose no profile: users who authenticate '
        "with environment variables or SSO lose those credentials in the plugin.",
        'Pass "" as argv[4] when no profile was chosen (boto3: the profile only if '
        "Session(profile_name=…) was given, not Session.profile_name).",
        "docs/callers.md §0; docs/plugin.md §1.3",
    ),
    # -- skipped / n/a / error -----------------------------------------------------------------
    Reason(
        "requirement-missing",
        "skip",
        "The tool is not installed here (not on PATH, no path in its env var, or the PyPI "
        "install failed).",
        "Install it (see the adapter's requires.hint) or point the adapter's path_env at it.",
    ),
    Reason(
        "version-mismatch",
        "skip",
        "The installed program is not the version this variant is for (requires.version_match).",
        "Point the adapter's path_env at the right binary.",
    ),
    Reason(
        "unsupported-scenario",
        "not-applicable",
        "The scenario does not apply to this tool (no port forwarding, or a different kind of "
        "target).",
        "Nothing to fix; add a port_forward launch to the adapter if the tool gained it.",
    ),
    Reason(
        "harness-error",
        "error",
        "The kit failed before it could judge the tool (fake AWS, sandbox or agent error).",
        "Re-run with the evidence kept and report it to smp-compat with the cell id.",
    ),
    Reason(
        "fake-aws-unsupported",
        "error",
        "The tool called an AWS operation smp-compat's fake AWS does not implement (it "
        'answered "UnknownOperationException"), and stopped before it started the plugin: '
        "the kit's limit, not the tool's failure.",
        "Report the operation named in the detail to smp-compat (docs/fake-aws.md lists what "
        "the fake AWS answers); until then the cell cannot be judged.",
        "docs/fake-aws.md",
    ),
    Reason(
        "inconclusive",
        "error",
        "The evidence does not show whether a session would start (no agent transcript, "
        "unreadable records).",
        "Re-run the single cell (--adapter/--scenario/--release) and read its evidence.",
    ),
)


def get(code: str) -> Reason:
    """The reason for ``code``; :class:`UnknownReasonError` lists the known codes."""
    try:
        return REASONS[code]
    except KeyError:
        raise UnknownReasonError(
            f"unknown reason code {code!r}; known: {', '.join(REASONS)}"
        ) from None
