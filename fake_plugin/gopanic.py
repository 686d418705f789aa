"""Go panics as the Go runtime prints them: same head, blank line, ``goroutine 1 [running]:``.

The real plugin panics in two places of ``ValidateInputAndStartSession`` (docs/plugin.md §1.1,
§6): the ``startSessionRequest["Target"].(string)`` assertion (``session.go:184`` in 1.2.677.0)
and the dereference of a nil ``*string`` from the response (``session.go:200-202``). Go writes
the panic to stderr and exits with status 2; the stack frames below follow the plugin's real
call chain (``main.main`` -> ``session.ValidateInputAndStartSession``) with fixed addresses.
"""

from __future__ import annotations

from fake_plugin import versions
from fake_plugin.errors import GoPanic

#: Exit status of a Go program that dies from an unrecovered panic.
PANIC_EXIT_CODE = 2

NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"
#: The line Go prints after the message when the panic came from a fault (``sigpanic``).
SIGSEGV_LINE = "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x7d5a72]"


def type_assertion(dynamic_type: str, line: int) -> GoPanic:
    """``x.(string)`` on an ``interface{}`` holding ``dynamic_type`` (``nil``, ``float64``…)."""
    return GoPanic(
        "panic-target-assertion",
        f"interface conversion: interface {{}} is {dynamic_type}, not string",
        line,
    )


def nil_dereference(line: int) -> GoPanic:
    """``*startSessionOutput.SessionId`` (or StreamUrl, TokenValue) with a nil pointer."""
    return GoPanic("panic-nil-dereference", NIL_DEREF, line, fault=True)


def render(panic: GoPanic, release: str, argc: int) -> str:
    """The whole stderr text of the panic, as the Go runtime of ``release``'s build prints it."""
    root = versions.go_import_root(release)
    build = f"/build/private/src/{root}/src"
    if versions.go_register_abi(release):
        args = f"{{0xc0000b4000, 0x{argc:x}, 0x{argc:x}}}, {{0x9c4e20, 0xc0000a0008}}"
    else:
        args = f"0xc0000b4000, 0x{argc:x}, 0x{argc:x}, 0x9c4e20, 0xc0000a0008"
    offset = 0x5C4 + panic.line  # a plausible pc offset, stable per line
    head = f"panic: {panic.message}\n"
    if panic.fault:
        head += SIGSEGV_LINE + "\n"
    return (
        f"{head}\n"
        "goroutine 1 [running]:\n"
        f"{root}/src/sessionmanagerplugin/session.ValidateInputAndStartSession({args})\n"
        f"\t{build}/sessionmanagerplugin/session/session.go:{panic.line} +0x{offset:x}\n"
        "main.main()\n"
        f"\t{build}/sessionmanagerplugin-main/main.go:26 +0x45\n"
    )
