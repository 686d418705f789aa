"""A session's evidence, gathered one way for the matrix runner and the pytest harness alike.

``arrange`` says what a scenario sets up (seeding, KMS, proxy hosts, the judge's ``Setup``),
``gather`` waits for and reads what the session left (records, transcripts, refusals),
``records`` reads the plugin's record file, ``procs`` tells live processes from finished ones.
"""

from compat.evidence.arrange import (
    PLUGIN_HOSTS,
    free_port,
    judge_setup,
    kms_demanded,
    seeded,
    session_keys,
    session_marker,
    shared_resource,
    shell_input,
)
from compat.evidence.gather import EVIDENCE_WAIT, collect, error_line, sessions_of, tail_line
from compat.evidence.records import read_records, unfinished

__all__ = [
    "EVIDENCE_WAIT",
    "PLUGIN_HOSTS",
    "collect",
    "error_line",
    "free_port",
    "judge_setup",
    "kms_demanded",
    "read_records",
    "seeded",
    "session_keys",
    "session_marker",
    "sessions_of",
    "shared_resource",
    "shell_input",
    "tail_line",
    "unfinished",
]
