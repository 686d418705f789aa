"""A deterministic scripted shell: what the fake agent's "container" answers.

It is not an emulation of any real shell; it answers a few commands with canned text so a
session's output is predictable. Output goes through a pretend PTY, as on the real agent
(``AGENT@1c217c89:agent/session/shell/shell_unix.go`` runs commands under a pty): typed
input is echoed, Enter (the plugin sends ``\\r``, streaming.go:285-287) echoes ``\\r\\n``, and
every output line ends in ``\\r\\n``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

PROMPT = b"# "
#: Commands that start an interactive shell instead of running once.
INTERACTIVE_SHELLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "ksh", "fish"})
OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    'NAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\n'
    "VERSION_CODENAME=bookworm\n"
    "ID=debian\n"
)


@dataclass(frozen=True)
class ShellStep:
    """Bytes the shell printed, and whether it has exited (the session then closes)."""

    output: bytes
    exited: bool = False


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


#: ``$(...)`` without nesting: the container id ssm-ecs computes with ``docker ps``.
_SUBSTITUTION = re.compile(r"\$\([^()]*\)")


def in_container(command: str) -> str:
    """The command ``docker exec [-it] CONTAINER CMD...`` runs in the container, as the
    target host's docker would (ssm-ecs 0.6 wraps the user's command so, ssmecs/ssm_ecs.py
    ``start``); any other command as it is."""
    try:
        words = shlex.split(_SUBSTITUTION.sub("CONTAINER", command))
    except ValueError:
        return command
    if words[:2] != ["docker", "exec"]:
        return command
    rest = words[2:]
    while rest and rest[0].startswith("-"):
        rest = rest[1:]
    return shlex.join(rest[1:])


def is_interactive(command: str | None) -> bool:
    """A missing command, or a bare shell (``/bin/sh``, ``bash -l``...) is interactive."""
    if command is None or not command.strip():
        return True
    command = in_container(command)
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if not words or PurePosixPath(words[0]).name not in INTERACTIVE_SHELLS:
        return False
    return "-c" not in words[1:]


def _script_of(command: str) -> str:
    """``sh -c 'a; b'`` runs ``a; b``; anything else runs as written."""
    command = in_container(command)
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if words and PurePosixPath(words[0]).name in INTERACTIVE_SHELLS and "-c" in words:
        rest = words[words.index("-c") + 1 :]
        return rest[0] if rest else ""
    return command


class ScriptedShell:
    """Answers ``echo``, ``whoami``, ``true``, ``hostname``, ``cat /etc/os-release``...

    Unknown commands print ``sh: 1: <cmd>: not found`` (the dash wording), interactive or not.
    """

    def __init__(self, command: str | None, hostname: str = "smp-compat-target") -> None:
        self.command = command
        self.hostname = hostname
        self.interactive = is_interactive(command)
        self._line = bytearray()
        self.exited = False

    def start(self) -> ShellStep:
        """The first output: the prompt, or the whole run of a one-shot command."""
        if self.interactive:
            return ShellStep(PROMPT)
        assert self.command is not None
        text, _ = self.run_script(_script_of(self.command))
        self.exited = True
        return ShellStep(_crlf(text), exited=True)

    def feed(self, data: bytes) -> ShellStep:
        """Keystrokes from the client, echoed like a PTY in canonical mode."""
        if self.exited or not self.interactive:
            return ShellStep(b"", exited=self.exited)
        out = bytearray()
        previous = b""
        for value in data:
            char = bytes([value])
            if char == b"\n" and previous == b"\r":
                previous = char
                continue
            previous = char
            if char in (b"\r", b"\n"):
                out += b"\r\n"
                line = self._line.decode("utf-8", "replace")
                self._line.clear()
                text, exited = self.run_script(line)
                out += _crlf(text)
                if exited:
                    self.exited = True
                    return ShellStep(bytes(out), exited=True)
                out += PROMPT
            elif char == b"\x03":
                self._line.clear()
                out += b"^C\r\n" + PROMPT
            elif char == b"\x04" and not self._line:
                self.exited = True
                return ShellStep(bytes(out) + b"exit\r\n", exited=True)
            elif char in (b"\x7f", b"\x08"):
                if self._line:
                    self._line.pop()
                    out += b"\b \b"
            else:
                self._line += char
                out += char
        return ShellStep(bytes(out))

    def run_script(self, script: str) -> tuple[str, bool]:
        """Run ``;``/``&&``/newline-separated commands; returns (output, exited)."""
        out: list[str] = []
        for raw in script.replace("&&", ";").replace("\n", ";").split(";"):
            line = raw.strip()
            if not line:
                continue
            text, exited = self.answer(line)
            out.append(text)
            if exited:
                return "".join(out), True
        return "".join(out), False

    def answer(self, line: str) -> tuple[str, bool]:
        """The canned answer to one command line."""
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        name, args = words[0], words[1:]
        if name == "exit":
            return "", True
        if name == "echo":
            if args[:1] == ["-n"]:
                return " ".join(args[1:]), False
            return " ".join(args) + "\n", False
        canned = {
            "whoami": "root\n",
            "hostname": f"{self.hostname}\n",
            "pwd": "/\n",
            "id": "uid=0(root) gid=0(root) groups=0(root)\n",
            "uname": "Linux\n",
        }
        if name in canned and not args:
            return canned[name], False
        if name in ("true", ":", "false"):
            return "", False
        if name == "cat" and args == ["/etc/os-release"]:
            return OS_RELEASE, False
        return f"sh: 1: {name}: not found\n", False
