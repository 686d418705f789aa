"""The argv contract: ``ValidateInputAndStartSession`` branch by branch, in the real order.

Reproduces ``SMP:src/sessionmanagerplugin/session/session.go:130-217`` (1.2.677.0; the same
code at other lines in older tags, see :func:`fake_plugin.versions.session_go_lines`) as
docs/plugin.md §1 and §1.1 describe it: the ``len(args)`` if/else (``:145-161``), the loop
over ``args[1..6]`` that parses ``args[5]`` before the operation is looked at (``:163-188``),
the ``switch`` on the operation (``:192-211``). Pure: no I/O except reading and unsetting the
``AWS_SSM_START_SESSION_RESPONSE*`` variable in the environment mapping it is given.
"""

from __future__ import annotations

from fake_plugin import gopanic, versions
from fake_plugin.errors import GoJSONError, GoPanic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from fake_plugin.record import ParsedFields

#: ``session.go:145-148``.
INSTALL_TEXT = (
    "\nThe Session Manager plugin was installed successfully. "
    "Use the AWS CLI to start a session.\n\n"
)
#: ``session.go:208-210``: no newline.
INVALID_OPERATION = "Invalid Operation"
#: ``StartSessionOperation`` (``session.go:39-44``): compared case-sensitively.
START_SESSION = b"StartSession"
#: ``LegacyArgumentLength``: argv of exactly 4 elements sets ``IsAwsCliUpgradeNeeded``.
LEGACY_ARGUMENT_LENGTH = 4
#: ``session.go:166`` (1.2.536.0 and later): ``strings.HasPrefix(args[1], …)``.
ENV_RESPONSE_PREFIX = b"AWS_SSM_START_SESSION_RESPONSE"

#: Stable branch names, one per row group of docs/plugin.md §1.1 (used in the record).
BRANCHES = (
    "install-text",
    "version",
    "unknown-operation",
    "response-decode-error",
    "invalid-operation",
    "panic-target-assertion",
    "panic-nil-dereference",
    "start-session-legacy",
    "start-session",
)


def text(arg: bytes) -> str:
    """An argv element as ``str`` that encodes back to the same bytes (like ``os.fsdecode``)."""
    return arg.decode("utf-8", "surrogateescape")


def unknown_operation(arg1: bytes) -> str:
    """``session.go:152-155``: note the space before the first newline."""
    return (
        f"\nUnknown operation {text(arg1)}. \n"
        "Use session-manager-plugin --version to check the version.\n\n"
    )


class Parsed:
    """What the loop over ``args[1..6]`` stored before the branch ended (record + invocation)."""

    __slots__ = (
        "endpoint",
        "env_var_name",
        "env_var_set",
        "legacy_cli",
        "operation",
        "profile",
        "region",
        "response",
        "session_id",
        "stream_url",
        "target",
        "token_value",
    )

    def __init__(self, legacy_cli: bool) -> None:
        self.legacy_cli = legacy_cli
        self.response = b""
        self.region = ""
        self.operation = ""
        self.profile = ""
        #: ``args[5]["Target"]`` when it is a string; "" when argv is shorter.
        self.target = ""
        self.endpoint = ""
        #: The ``AWS_SSM_START_SESSION_RESPONSE*`` name the response came from, if any.
        self.env_var_name: str | None = None
        self.env_var_set = False
        self.session_id: str | None = None
        self.stream_url: str | None = None
        self.token_value: str | None = None

    def fields(self) -> ParsedFields:
        """The non-secret fields, for the record (never the token, never the response)."""
        return {
            "region": self.region,
            "operation": self.operation,
            "profile": self.profile,
            "target": self.target,
            "endpoint": self.endpoint,
            "legacy_cli": self.legacy_cli,
            "env_var_mode": self.env_var_name is not None,
            "env_var_name": self.env_var_name,
            "env_var_set": self.env_var_set,
            "session_id": self.session_id,
            "stream_url": self.stream_url,
        }


class Outcome:
    """The branch taken: what it prints, whether it panics, and what it parsed."""

    __slots__ = ("branch", "panic", "parsed", "stdout")

    def __init__(
        self,
        branch: str,
        stdout: str = "",
        *,
        panic: GoPanic | None = None,
        parsed: Parsed | None = None,
    ) -> None:
        self.branch = branch
        self.stdout = stdout
        self.panic = panic
        self.parsed = parsed

    @property
    def starts_session(self) -> bool:
        """A valid StartSession: the caller prints ``Starting session…`` and opens the channel."""
        return self.branch in ("start-session", "start-session-legacy")


def validate(args: list[bytes], release: str, environ: MutableMapping[bytes, bytes]) -> Outcome:
    """Emulate ``ValidateInputAndStartSession(os.Args, os.Stdout)`` up to ``startSession``.

    ``args`` includes the program name; ``environ`` is ``os.environb`` in the real program.
    """
    argc = len(args)
    if argc == 1:
        return Outcome("install-text", INSTALL_TEXT)
    if argc == 2 and args[1] == b"--version":
        return Outcome("version", release + "\n")
    if argc < LEGACY_ARGUMENT_LENGTH:
        return Outcome("unknown-operation", unknown_operation(args[1]))
    # The branches above decode no JSON, so they never load Go's scanner (issue 12).
    from fake_plugin import gojson  # noqa: PLC0415 - only once argv holds JSON to decode

    parsed = Parsed(legacy_cli=argc == LEGACY_ARGUMENT_LENGTH)
    target_line, session_id_line = versions.session_go_lines(release)

    # The loop (session.go:163-188); indices 7 and above are ignored.
    parsed.response = _response(args[1], release, environ, parsed)
    parsed.region = text(args[2])
    parsed.operation = text(args[3])
    if argc > 4:
        parsed.profile = text(args[4])
    if argc > 5:
        go_type, target = gojson.interface_map_get(args[5], "Target")
        if target is None:
            panic = gopanic.type_assertion(go_type, target_line)
            return Outcome(panic.kind, panic=panic, parsed=parsed)
        parsed.target = target
    if argc > 6:
        parsed.endpoint = text(args[6])

    if args[3] != START_SESSION:
        return Outcome("invalid-operation", INVALID_OPERATION, parsed=parsed)
    try:
        fields = gojson.unmarshal_start_session_output(parsed.response)
    except GoJSONError as err:
        return Outcome(
            "response-decode-error", f"Cannot perform start session: {err}\n", parsed=parsed
        )
    # session.go:200-202 dereference the three pointers in this order.
    for offset, name in enumerate(gojson.START_SESSION_FIELDS):
        if fields.get(name) is None:
            panic = gopanic.nil_dereference(session_id_line + offset)
            return Outcome(panic.kind, panic=panic, parsed=parsed)
    parsed.session_id = fields["SessionId"]
    parsed.stream_url = fields["StreamUrl"]
    parsed.token_value = fields["TokenValue"]
    branch = "start-session-legacy" if parsed.legacy_cli else "start-session"
    return Outcome(branch, parsed=parsed)


def _response(
    arg1: bytes, release: str, environ: MutableMapping[bytes, bytes], parsed: Parsed
) -> bytes:
    """``args[1]``, or from 1.2.536.0 the variable it names, unset afterwards (§1.2)."""
    if not (versions.env_response_mode(release) and arg1.startswith(ENV_RESPONSE_PREFIX)):
        return arg1
    parsed.env_var_name = text(arg1)
    value = environ.get(arg1)
    parsed.env_var_set = value is not None
    # os.Unsetenv: Go ignores names that cannot exist (e.g. with "="); so does pop().
    environ.pop(arg1, None)
    return value or b""
