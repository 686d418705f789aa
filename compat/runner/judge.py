"""The judge stage of a cell: the verdict, and the shape of the argv the plugin got.

The verdict is :func:`compat.verdict.rules.judge`'s on the setup
:func:`compat.evidence.judge_setup` describes, as the pytest harness gives it; the argv's shape
(``compat.verdict.agreement``) lets a replay be compared with the real tool's run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compat.evidence import judge_setup
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.verdict.agreement import argv_shape
from compat.verdict.rules import Evidence, Verdict, judge, session_starts

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS
    from compat.plan.scenario import Scenario

__all__ = ["Judged", "judge_cell", "target_ids"]


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    #: ``None`` when the plugin never started a session.
    argv_shape: dict[str, Any] | None


def judge_cell(
    scenario: Scenario, fake: FakeAWS, target: EcsTarget | Ec2Target, evidence: Evidence
) -> Judged:
    """The verdict on ``evidence``, and the shape of the last session start's argv."""
    verdict = judge(evidence, judge_setup(scenario, fake))
    starts = session_starts(evidence.records)
    if not starts:
        return Judged(verdict, None)
    shape = argv_shape(
        [str(a) for a in starts[-1].get("argv") or []],
        names=target_ids(target),
        region=scenario.region,
        user_profile=scenario.user.profile,
        configured_endpoints=(fake.endpoint_url,),
    )
    return Judged(verdict, shape)


def target_ids(target: EcsTarget | Ec2Target) -> dict[str, str]:
    """The seeded ids an argv may hold, by placeholder name (``compat.verdict.agreement``)."""
    if isinstance(target, EcsTarget):
        ids = {
            "cluster": target.cluster_name,
            "cluster_arn": target.cluster_arn,
            "task_id": target.task_id,
            "task_arn": target.task_arn,
            "runtime_id": target.runtime_id,
        }
        if target.instance_id is not None:  # the task's EC2 host (ssm-ecs's Target)
            ids["instance_id"] = target.instance_id
        return ids
    return {"instance_id": target.instance_id}
