"""Writes the golden files from docs/plugin.md §1.1 texts; never imports the fake plugin.

Run ``python tests/fake_plugin/golden/make_golden.py`` after a change to the spec. Each row
cites the docs/plugin.md row and ``session.go`` lines it reproduces. Observed releases
(docs/plugin.md §0): 1.2.677.0 (every row), 1.2.234.0 (identical but for the version string
and the env-var rows); other releases follow from their source, read tag by tag.
"""

from __future__ import annotations

import json
from pathlib import Path

RESP = '{"SessionId":"sess-123","StreamUrl":"ws://127.0.0.1:9/data","TokenValue":"tok"}'
LOWER = '{"sessionId":"sess-123","streamUrl":"ws://127.0.0.1:9/data","tokenValue":"tok"}'
P = '{"Target":"i-0123456789abcdef0"}'
INSTALL = (
    "\nThe Session Manager plugin was installed successfully. "
    "Use the AWS CLI to start a session.\n\n"
)
STARTING = "\nStarting session with SessionId: sess-123\n"
ENV = "AWS_SSM_START_SESSION_RESPONSE"
NIL = "panic: interface conversion: interface {} is nil, not string\n\ngoroutine 1 [running]:\n"
FLOAT = (
    "panic: interface conversion: interface {} is float64, not string\n\ngoroutine 1 [running]:\n"
)
DEREF = (
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x7d5a72]\n\n"
    "goroutine 1 [running]:\n"
)
RELEASES = (
    "1.2.54.0",
    "1.2.205.0",
    "1.2.234.0",
    "1.2.245.0",
    "1.2.295.0",
    "1.2.312.0",
    "1.2.497.0",
    "1.2.536.0",
    "1.2.677.0",
)


def key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def lines(v: str) -> tuple[int, int]:
    """session.go lines of the .(string) assertion and the SessionId deref, per tag."""
    if key(v) >= (1, 2, 536, 0):
        return 184, 200
    if key(v) >= (1, 2, 295, 0):
        return 176, 192
    return (156, 172) if v == "1.2.205.0" else (155, 171)


def unknown(arg: str) -> str:
    return (
        f"\nUnknown operation {arg}. \n"
        "Use session-manager-plugin --version to check the version.\n\n"
    )


def cannot(err: str) -> str:
    return f"Cannot perform start session: {err}\n"


def rows(v: str) -> list[dict[str, object]]:
    target_line, deref_line = lines(v)
    env_mode = key(v) >= (1, 2, 536, 0)
    old_env = cannot("invalid character 'A' looking for beginning of value")

    def row(id_: str, cite: str, args: list[str], **expect: object) -> dict[str, object]:
        out: dict[str, object] = {"id": id_, "cite": cite, "args": args}
        out.setdefault("env", {})
        out.update(expect)
        out.setdefault("exit", 2 if "stderr_head" in expect else 0)
        out.setdefault("stderr_head", "")
        if "stdout_prefix" not in out:
            out.setdefault("stdout", "")
        return out

    s11 = "docs/plugin.md §1.1"
    return [
        row("no-args", f"{s11} row 1; session.go:145-148", [], stdout=INSTALL),
        row("version", f"{s11} row 2; session.go:149-151; §5", ["--version"], stdout=v + "\n"),
        row("one-arg-foo", f"{s11} row 3; session.go:152-155", ["foo"], stdout=unknown("foo")),
        row("one-arg-v", f"{s11} row 3", ["-v"], stdout=unknown("-v")),
        row("one-arg-env-name", f"{s11} row 3; §1.2 (needs >= 3 args)", [ENV], stdout=unknown(ENV)),
        row("two-args", f"{s11} row 4", ["--version", "x"], stdout=unknown("--version")),
        row("two-args-resp", f"{s11} row 4", [RESP, "us-east-1"], stdout=unknown(RESP)),
        row(
            "legacy-3-args",
            f"{s11} row 5; session.go:157-161",
            [RESP, "us-east-1", "StartSession"],
            stdout_prefix=STARTING,
            branch="start-session-legacy",
        ),
        row(
            "legacy-not-json",
            f"{s11} row 6; session.go:194-197",
            ["notjson", "us-east-1", "StartSession"],
            stdout=cannot("invalid character 'o' in literal null (expecting 'u')"),
        ),
        row(
            "invalid-operation",
            f"{s11} row 7; session.go:208-210 (no newline)",
            [RESP, "us-east-1", "startsession"],
            stdout="Invalid Operation",
        ),
        row(
            "invalid-operation-valid-params",
            f"{s11} row 7",
            [RESP, "us-east-1", "StartSessionX", "", P],
            stdout="Invalid Operation",
        ),
        row(
            "profile-4-args",
            f"{s11} row 8; session.go:179",
            [RESP, "us-east-1", "StartSession", "default"],
            stdout_prefix=STARTING,
            branch="start-session",
        ),
        *[
            row(
                f"params-{name}",
                f"{s11} row 9; session.go:{target_line}",
                [RESP, "us-east-1", "StartSession", "", params],
                stderr_head=NIL,
                frame=f"session.go:{target_line}",
            )
            for name, params in (
                ("not-json", "notjson"),
                ("empty", ""),
                ("no-target", '{"DocumentName":"AWS-StartShell"}'),
                ("null", "null"),
                ("lowercase-target", '{"target":"i-1"}'),
            )
        ],
        row(
            "params-target-number",
            f"{s11} row 10; session.go:{target_line}",
            [RESP, "us-east-1", "StartSession", "", '{"Target":5}'],
            stderr_head=FLOAT,
            frame=f"session.go:{target_line}",
        ),
        row(
            "params-bad-and-invalid-operation",
            f"{s11} row 11 (the loop runs before the switch)",
            [RESP, "us-east-1", "Nope", "", "notjson"],
            stderr_head=NIL,
            frame=f"session.go:{target_line}",
        ),
        *[
            row(
                f"response-{name}",
                f"{s11} row 12; session.go:{deref_line + offset}",
                [resp, "us-east-1", "StartSession"],
                stderr_head=DEREF,
                frame=f"session.go:{deref_line + offset}",
            )
            for name, resp, offset in (
                ("empty-object", "{}", 0),
                ("null", "null", 0),
                ("no-stream-url", '{"SessionId":"s","TokenValue":"t"}', 1),
                ("null-token", '{"SessionId":"s","StreamUrl":"u","TokenValue":null}', 2),
            )
        ],
        row(
            "five-args",
            f"{s11} row 13",
            [RESP, "us-east-1", "StartSession", "", P],
            stdout_prefix=STARTING,
            branch="start-session",
        ),
        row(
            "six-args",
            f"{s11} row 13",
            [RESP, "us-east-1", "StartSession", "", P, "https://ssm.us-east-1.amazonaws.com"],
            stdout_prefix=STARTING,
            branch="start-session",
        ),
        row(
            "extra-args-ignored",
            f"{s11} row 13 (indices >= 7 ignored)",
            [RESP, "us-east-1", "StartSession", "", P, "e", "x", "notjson"],
            stdout_prefix=STARTING,
            branch="start-session",
        ),
        row(
            "lowercase-keys",
            f"{s11} note (case-insensitive fields; observed sess-lower)",
            [LOWER, "us-east-1", "StartSession", "", P, "e"],
            stdout_prefix=STARTING,
            branch="start-session",
        ),
        row(
            "env-var-set",
            f"{s11} row 14; §1.2; session.go:166-170",
            [ENV, "us-east-1", "StartSession", "", P, "e"],
            env={ENV: RESP},
            **(
                {"stdout_prefix": STARTING, "branch": "start-session"}
                if env_mode
                else {"stdout": old_env}
            ),
        ),
        row(
            "env-var-suffix-set",
            f"{s11} row 14 (prefix match); §1.2",
            [ENV + "_42", "us-east-1", "StartSession"],
            env={ENV + "_42": RESP},
            **(
                {"stdout_prefix": STARTING, "branch": "start-session-legacy"}
                if env_mode
                else {"stdout": old_env}
            ),
        ),
        row(
            "env-var-unset",
            f"{s11} row 15; §1.2",
            [ENV, "us-east-1", "StartSession", "", P, "e"],
            stdout=cannot("unexpected end of JSON input") if env_mode else old_env,
        ),
        row(
            "env-var-empty",
            f"{s11} row 15",
            [ENV, "us-east-1", "StartSession"],
            env={ENV: ""},
            stdout=cannot("unexpected end of JSON input") if env_mode else old_env,
        ),
        row(
            "env-var-not-json",
            f"{s11} row 16",
            [ENV, "us-east-1", "StartSession"],
            env={ENV: "xx"},
            stdout=(
                cannot("invalid character 'x' looking for beginning of value")
                if env_mode
                else old_env
            ),
        ),
        row(
            "version-with-3-args",
            f"{s11} row 17",
            ["--version", "us-east-1", "StartSession"],
            stdout=cannot("invalid character '-' in numeric literal"),
        ),
        row(
            "response-array",
            f"{s11} JSON note (Go encoding/json type error)",
            ["[]", "us-east-1", "StartSession"],
            stdout=cannot(
                "json: cannot unmarshal array into Go value of type ssm.StartSessionOutput"
            ),
        ),
        row(
            "response-number-field",
            f"{s11} JSON note (Go encoding/json type error)",
            ['{"SessionId":5,"StreamUrl":"u","TokenValue":"t"}', "us-east-1", "StartSession"],
            stdout=cannot(
                "json: cannot unmarshal number into Go struct field "
                "StartSessionOutput.SessionId of type string"
            ),
        ),
        row(
            "response-trailing",
            f"{s11} JSON note",
            [RESP + "x", "us-east-1", "StartSession"],
            stdout=cannot("invalid character 'x' after top-level value"),
        ),
    ]


def main() -> None:
    here = Path(__file__).parent
    for v in RELEASES:
        doc = {
            "release": v,
            "source": "docs/plugin.md §1, §1.1, §1.2, §5 (see make_golden.py)",
            "rows": rows(v),
        }
        (here / f"{v}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
