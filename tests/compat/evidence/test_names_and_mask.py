"""Evidence names and contents that do not change between two runs of one cell."""

from __future__ import annotations

import json
from pathlib import Path

from compat.evidence.keep import cell_masker, keep_evidence
from compat.evidence.mask import VARIES, Masker
from compat.evidence.names import MAX_NAME, cell_dirname


def test_a_plain_cell_id_reads_as_it_is() -> None:
    assert cell_dirname("ecsk/0.6.1/kms-env-credentials/1.2.677.0") == (
        "ecsk__0.6.1__kms-env-credentials__1.2.677.0"
    )


def test_ids_that_would_join_alike_get_different_names() -> None:
    """Tool ``x`` + variant ``y__v`` and tool ``x__y`` + variant ``v`` joined with ``__``
    alike; so do parts that start or end with ``_``."""
    ids = [
        "x/y__v/kms/1.2.677.0",
        "x__y/v/kms/1.2.677.0",
        "x/y_/kms/1.2.677.0",
        "x_/y/kms/1.2.677.0",
        "x/y/kms/1.2.677.0",
        "x/y v/kms/1.2.677.0",
        "x/y-v/kms/1.2.677.0",
    ]
    names = [cell_dirname(i) for i in ids]
    assert len(set(names)) == len(ids), names
    assert names[4] == "x__y__kms__1.2.677.0"
    assert all("~" in n for n in names[:4] + names[5:6])


def test_a_300_character_tool_name_fits_the_file_system(tmp_path: Path) -> None:
    long_a = "t" * 300 + "/1.0/kms/1.2.677.0"
    long_b = "t" * 300 + "/1.1/kms/1.2.677.0"
    a, b = cell_dirname(long_a), cell_dirname(long_b)
    assert a != b and len(a) <= MAX_NAME and a.startswith("tttt")
    (tmp_path / a).mkdir()  # no ENAMETOOLONG
    assert cell_dirname(long_a) == a  # stable


def test_a_name_is_never_hidden_or_a_path() -> None:
    for cell_id in ("../x/1/kms/1", "./x/1/kms/1", ".x/1/kms/1", "x/../kms/1"):
        name = cell_dirname(cell_id)
        assert "/" not in name and not name.startswith(".") and name not in ("", "..")


def test_the_masker_replaces_a_cells_values_the_same_way_everywhere() -> None:
    task = "ef256b3d4cc44889806113e76ea96212"
    masker = Masker(
        {
            task: "<task_id>",
            f"{task}-8782638036": "<runtime_id>",
            "smp-cluster-3-abc123": "<cluster>",
        },
        sessions=["moto-9ed76205ccb4c3f98", "moto-0000000000000000a"],
    )
    target = f"ecs:smp-cluster-3-abc123_{task}_{task}-8782638036"
    assert masker.text(target) == "ecs:<cluster>_<task_id>_<runtime_id>"
    text = (
        "moto-0000000000000000a ws://127.0.0.1:42719/x http://127.0.0.1:44847 "
        "ws://127.0.0.1:42719/y 2026-12-01T04:31:41.654424Z "
        "key/34f575b3-3413-40ca-9a4d-2328907ae6f9 AKIAFAKE02VA4S5P8CFV "
        "Tue, 01 Dec 2026 05:27:50 GMT"
    )
    assert masker.text(text) == (
        "<session-2> ws://127.0.0.1:<port-1>/x http://127.0.0.1:<port-2> "
        "ws://127.0.0.1:<port-1>/y <time> key/<uuid-1> <access_key_id> <time>"
    )
    record = {"pid": 4242, "started_at": "x", "argv": [target], "exit_code": 0, "t": None}
    assert masker.json(record) == {
        "pid": VARIES,
        "started_at": VARIES,
        "argv": ["ecs:<cluster>_<task_id>_<runtime_id>"],
        "exit_code": 0,
        "t": None,
    }


def test_a_value_is_masked_only_whole() -> None:
    masker = Masker({"20345": "<local_port>"})
    assert (
        masker.text("port 20345, not 203456 or a20345") == "port <local_port>, not 203456 or a20345"
    )


def test_kept_evidence_names_transcripts_by_order_not_by_session_id(tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    record.write_text(
        json.dumps({"pid": 1, "argv": ["moto-9ed76205ccb4c3f98"]}) + "\nnot json 127.0.0.1:80\n"
    )
    masker = Masker({}, sessions=["moto-9ed76205ccb4c3f98"])
    transcript = {
        "session_id": "moto-9ed76205ccb4c3f98",
        "messages": [1, 2, 3],
        "decisions": [
            {"t": 0.1, "event": "handler-not-ready"},
            {"t": 0.2, "event": "shell-started"},
            {"t": 0.3, "event": "size", "size": {"cols": 300, "rows": 100}},
            {"t": 0.4, "event": "size", "size": {"cols": 300, "rows": 100}},
        ],
    }
    paths = keep_evidence(
        tmp_path / "out", "x/y__v/kms/1", masker, record=record,
        transcripts={"moto-9ed76205ccb4c3f98": transcript},
    )  # fmt: skip
    directory = cell_dirname("x/y__v/kms/1")
    assert paths == {
        "plugin_record": f"evidence/{directory}/plugin-record.jsonl",
        "transcript": f"evidence/{directory}/transcript-1.json",
    }
    kept = json.loads((tmp_path / "out" / paths["transcript"]).read_text())
    assert kept == {
        "session_id": "<session-1>",
        "decisions": [
            {"t": VARIES, "event": "shell-started"},
            {"t": VARIES, "event": "size", "size": {"cols": 300, "rows": 100}},
        ],
    }
    lines = (tmp_path / "out" / paths["plugin_record"]).read_text().splitlines()
    assert lines == ['{"pid": "<varies>", "argv": ["<session-1>"]}', "not json 127.0.0.1:<port-1>"]


def test_a_tasks_short_id_is_masked_as_tools_print_it(tmp_path: Path) -> None:
    """copilot prints "Found only one running task 0123abcd": the 8-digit form of the task id
    varies with the run like the whole one."""
    task_id = "0123abcd" + "4" * 24
    masker = cell_masker(
        {"task_id": task_id},
        extra={},
        sandbox=tmp_path / "s",
        work=tmp_path / "w",
        cluster_made_up=False,
        sessions=(),
    )
    line = f"Found only one running task 0123abcd (fam:1), task {task_id}; x0123abcdx stays"
    assert masker.text(line) == (
        "Found only one running task <task_id:8> (fam:1), task <task_id>; x0123abcdx stays"
    )


def test_a_port_sessions_timing_and_map_order_are_not_kept(tmp_path: Path) -> None:
    """Two runs of one port-forward cell keep the same transcript: whether the plugin sent
    DISCONNECT_TO_PORT before the kit stopped it is timing, and a Go tool sends the document
    parameters in its map's random order."""
    decisions = [
        {"t": 0.1, "event": "port-forwarding-started"},
        {"t": 0.2, "event": "client-flag", "flag": 1, "name": "DISCONNECT_TO_PORT"},
        {"t": 0.3, "event": "client-flag", "flag": 2, "name": "TERMINATE_SESSION"},
    ]
    runs = []
    for number, (flagged, parameters) in enumerate(
        [
            (decisions, {"portNumber": ["80"], "localPortNumber": ["1"]}),
            ([decisions[0], decisions[2]], {"localPortNumber": ["1"], "portNumber": ["80"]}),
        ]
    ):
        transcript = {"session_id": "s", "session": {"parameters": parameters}}
        paths = keep_evidence(
            tmp_path / str(number), "x/y/port-forward/1", Masker({}, sessions=["s"]),
            record=None, transcripts={"s": {**transcript, "decisions": flagged}},
        )  # fmt: skip
        runs.append((tmp_path / str(number) / paths["transcript"]).read_text())
    assert runs[0] == runs[1]
    kept = json.loads(runs[0])
    assert [d["event"] for d in kept["decisions"]] == ["port-forwarding-started", "client-flag"]
    assert kept["decisions"][1]["name"] == "TERMINATE_SESSION"
    assert list(kept["session"]["parameters"]) == ["localPortNumber", "portNumber"]
