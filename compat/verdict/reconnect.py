"""The reconnect scenario's evidence: where the plugin sent ResumeSession, and what came of it.

After a dropped websocket the plugin resumes at argv[6]; a wrong argv[6] there is the finding,
so the proxy's refusal of it is not an ``endpoint-ignored`` of the tool's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from compat.verdict.rules import Evidence, Setup

__all__ = ["refused_hosts", "resume_detail", "resumed", "settle_endpoint_warnings"]

#: How the plugin's own lines that end a session begin (not the remote shell's output).
_PLUGIN_ENDINGS = ("Cannot perform start session", "Session: ", "Exiting session", "SessionId: ")


def refused_hosts(
    evidence: Evidence, setup: Setup, starts: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The proxy's refusals, less the plugin's ResumeSession at argv[6] in a reconnect cell
    (a region there becomes ``https://<region>``: that is the finding, not the tool's)."""
    if not setup.reconnect or not starts:
        return list(evidence.refused_hosts)
    argv = [str(a) for a in starts[-1].get("argv") or []]
    if len(argv) < 7:
        return list(evidence.refused_hosts)
    endpoint = argv[6] if "://" in argv[6] else f"https://{argv[6]}"
    resume_host = urlsplit(endpoint).hostname or ""
    return [h for h in evidence.refused_hosts if h.lower() != resume_host.lower()]


def resumed(transcript: Mapping[str, Any]) -> bool:
    """No drop, or a resumed connection after it."""
    events = [str(d.get("event")) for d in transcript.get("decisions", [])]
    if "websocket-dropped" not in events:
        return True
    return "resumed" in events[events.index("websocket-dropped") :]


def resume_detail(start: Mapping[str, Any], evidence: Evidence) -> str:
    """Where the plugin sent ResumeSession, what it got, and what the plugin printed."""
    argv = [str(a) for a in start.get("argv") or []]
    endpoint = argv[6] if len(argv) > 6 else "(no argv[6])"
    calls = list(evidence.resume_calls)
    if calls:
        errors = sorted({str(c.get("error")).strip() for c in calls if c.get("error")})
        answered = sum(1 for c in calls if c.get("token_value"))
        said = f"{len(calls)} ResumeSession call(s) at argv[6] {endpoint!r}"
        said += f", {answered} answered" + (f", refused: {'; '.join(errors)}" if errors else "")
    else:
        said = f"no ResumeSession call reached the fake AWS (argv[6] {endpoint!r})"
    # The plugin's own line may follow the remote prompt on the same line ("# Cannot ...").
    said_by_plugin = [
        line[line.index(marker) :].strip()
        for line in str(start.get("stdout") or "").splitlines()
        if not line.startswith("Starting session with SessionId")
        for marker in _PLUGIN_ENDINGS
        if marker in line
    ]
    if said_by_plugin:
        printed = f"the plugin printed {said_by_plugin[-1][:200]!r}"
    else:
        printed = "the plugin printed nothing after the drop"
    ended = "; it was still running when the cell was stopped" if evidence.timed_out else ""
    return f"{said}; {printed}{ended}"


def settle_endpoint_warnings(cells: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Drop the static ``endpoint-not-ssm`` warning where a reconnect cell proved the point.

    ``cells`` are matrix.json cells (``row``, ``column`` = ``<scenario>/<release>``,
    ``outcome``, ``reason``, ``warnings``). For a row whose ``reconnect`` cell passed or failed
    ``resume-failed``, argv[6] was tried, not inferred: that cell says it, and the row's other
    cells lose the guess at every release, since the resume path is the same code in every
    release (``ResumeSessionHandler``, docs/plugin.md §3.7) and argv[6] is the tool's.
    """
    proven = {
        str(c["row"])
        for c in cells
        if str(c["column"]).split("/", 1)[0] == "reconnect"
        and (c.get("outcome") == "pass" or c.get("reason") == "resume-failed")
    }
    settled = []
    for cell in cells:
        entry = dict(cell)
        if str(entry["row"]) in proven and "endpoint-not-ssm" in (entry.get("warnings") or ()):
            entry["warnings"] = [w for w in entry["warnings"] if w != "endpoint-not-ssm"]
        settled.append(entry)
    return settled
