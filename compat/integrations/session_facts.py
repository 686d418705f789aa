"""What a caller tool needs to know of a harness session to build its command line.

The names a tool passes (cluster, task, container, instance, region, profile, endpoint), read
from the seeded target and the scenario; :class:`compat.integrations.session_check.PluginSession`
is one, and adds running the tool and asserting on what the plugin saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compat.fakeaws.seed import Ec2Target, EcsTarget

if TYPE_CHECKING:
    from compat.adapter.model import Kind
    from compat.fakeaws import FakeAWS
    from compat.plan.scenario import Scenario

__all__ = ["SessionFacts"]


class SessionFacts:
    """A seeded session's names, as attributes; ECS names raise for an EC2 session and back."""

    fake: FakeAWS
    scenario: Scenario
    kind: Kind
    target: EcsTarget | Ec2Target

    @property
    def region(self) -> str:
        """The region the session runs in."""
        return self.scenario.region

    @property
    def profile(self) -> str | None:
        """The named profile the user chose (``kms-profile``); pass it as your tool would."""
        return self.scenario.user.profile

    @property
    def user_region(self) -> str | None:
        """The region the user chose explicitly (``kms-region``); else ``None``."""
        return self.scenario.user.region

    def _ecs(self) -> EcsTarget:
        if not isinstance(self.target, EcsTarget):
            raise AttributeError(f"a {self.kind} session has no ECS task; use instance_id")
        return self.target

    @property
    def cluster(self) -> str:
        return self._ecs().cluster_name

    @property
    def task_id(self) -> str:
        return self._ecs().task_id

    @property
    def task_arn(self) -> str:
        return self._ecs().task_arn

    @property
    def container(self) -> str:
        return self._ecs().container_name

    @property
    def runtime_id(self) -> str:
        return self._ecs().runtime_id

    @property
    def instance_id(self) -> str:
        if not isinstance(self.target, Ec2Target):
            raise AttributeError(f"a {self.kind} session has no EC2 instance; use task_id")
        return self.target.instance_id

    @property
    def ssm_target(self) -> str:
        """The target SSM knows: ``ecs:<cluster>_<task>_<runtimeId>`` or the instance id."""
        return self.target.ssm_target

    @property
    def endpoint_url(self) -> str:
        return self.fake.endpoint_url
