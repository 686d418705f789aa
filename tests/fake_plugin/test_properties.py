"""Hypothesis properties over arbitrary argv and environment (docs/plugin.md §1, §1.1, §6).

The oracle is an independent model written with Python's ``json``: it predicts *whether* the
real code panics (and where), never the fake's texts.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_plugin import program
from fake_plugin.console import Console
from fake_plugin.versions import KNOWN_RELEASES

ENV = "AWS_SSM_START_SESSION_RESPONSE"
RESP = '{"SessionId":"s","StreamUrl":"ws://127.0.0.1:9/x","TokenValue":"t"}'
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["Target", "target", "SessionId", "x", ""]) | TEXT, inner, max_size=3
        )
    ),
    max_leaves=6,
)
RESPONSES = st.one_of(
    st.just(RESP),
    st.dictionaries(
        st.sampled_from(
            ["SessionId", "sessionid", "StreamUrl", "STREAMURL", "TokenValue", "tokenValue", "x"]
        ),
        st.none() | TEXT | st.integers() | st.booleans(),
        max_size=4,
    ).map(json.dumps),
    JSONISH.map(json.dumps),
)
ARG = st.one_of(
    TEXT,
    st.sampled_from(
        ["StartSession", "startsession", "--version", ENV, ENV + "_X", "", "null", "{}"]
    ),
    RESPONSES,
    JSONISH.map(json.dumps),
    st.builds(lambda t: json.dumps({"Target": t}), TEXT),
)
ARGV = st.lists(ARG, max_size=8)
ENVS = st.dictionaries(st.sampled_from([ENV, ENV + "_X"]), TEXT | RESPONSES, max_size=2)


def _loads(text: str) -> object:
    def reject(_: str) -> object:
        raise ValueError("NaN/Infinity are not JSON to Go")

    return json.loads(text, parse_constant=reject)


def _target_panics(params: str) -> bool:
    """``startSessionRequest["Target"].(string)`` fails (session.go:184)."""
    try:
        value = _loads(params)
    except ValueError:
        return True
    return not (isinstance(value, dict) and isinstance(value.get("Target"), str))


def _deref_panics(response: str) -> bool | None:
    """True: nil deref (session.go:200-202); False: a session starts; None: a decode error."""
    try:
        pairs_holder: list[list[tuple[str, object]]] = []
        value = json.loads(
            response,
            object_pairs_hook=lambda pairs: pairs_holder.append(pairs) or dict(pairs),
            parse_constant=lambda _: (_ for _ in ()).throw(ValueError()),
        )
    except ValueError:
        return None
    if value is None:
        return True
    if not isinstance(value, dict):
        return None
    fields: dict[str, object] = {}
    for key, item in pairs_holder[-1]:  # the top-level object is completed last
        folded = key.lower() if key.isascii() else key
        for name in ("SessionId", "StreamUrl", "TokenValue"):
            if folded == name.lower():
                if item is not None and not isinstance(item, str):
                    return None
                fields[name] = item
    return any(fields.get(n) is None for n in ("SessionId", "StreamUrl", "TokenValue"))


def expected(args: list[str], environ: dict[str, str], release: str) -> str:
    """``panic-target``, ``panic-deref`` or ``no-panic`` for the real code."""
    if len(args) < 3:
        return "no-panic"
    if len(args) >= 5 and _target_panics(args[4]):
        return "panic-target"
    if args[2] != "StartSession":
        return "no-panic"
    response = args[0]
    env_mode = tuple(int(x) for x in release.split(".")) >= (1, 2, 536, 0)
    if env_mode and args[0].startswith(ENV):
        response = environ.get(args[0], "")
    return "panic-deref" if _deref_panics(response) else "no-panic"


@pytest.fixture
def no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid starts stop before the data channel (its client is another module's job)."""
    monkeypatch.setattr(program, "_start_session", lambda *a: 0)


@pytest.mark.slow
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=ARGV, environ=ENVS, release=st.sampled_from(KNOWN_RELEASES))
def test_never_a_traceback_and_panics_where_go_does(
    args: list[str], environ: dict[str, str], release: str, no_session: None
) -> None:
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(ENV)}
    os.environ.update(environ)
    try:
        console = Console(echo=False)
        code = program.main(["session-manager-plugin", *args], release=release, console=console)
    finally:
        for k in [k for k in os.environ if k.startswith(ENV)]:
            del os.environ[k]
        os.environ.update(saved)
    err = console.stderr_text
    assert code in (0, 2)
    assert "Traceback" not in err and "internal error" not in err
    want = expected(args, environ, release)
    if want == "no-panic":
        assert (code, err) == (0, "")
    else:
        assert code == 2 and console.stdout_text == ""
        head = "panic: interface conversion" if want == "panic-target" else "panic: runtime error"
        assert err.startswith(head)
        assert "\n\ngoroutine 1 [running]:\n" in err


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=st.lists(st.binary(max_size=40).filter(lambda b: b"\x00" not in b), max_size=7))
def test_arbitrary_bytes_in_argv(args: list[bytes], no_session: None) -> None:
    """Undecodable argv bytes (surrogateescape) never break the fake."""
    console = Console(echo=False)
    argv = ["session-manager-plugin", *(os.fsdecode(a) for a in args)]
    code = program.main(argv, release="1.2.677.0", console=console)
    assert code in (0, 2)
    assert "Traceback" not in console.stderr_text
