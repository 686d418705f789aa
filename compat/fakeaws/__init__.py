"""The fake AWS: moto extended in-process, the session registry, proxy mode, and ``FakeAWS``."""

from compat.agent.sessions import SessionRegistry, SessionSpec, UnknownSessionError
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.fakeaws.stage import Credentials, FakeAWS, FakeAWSError

__all__ = [
    "Credentials",
    "Ec2Target",
    "EcsTarget",
    "FakeAWS",
    "FakeAWSError",
    "SessionRegistry",
    "SessionSpec",
    "UnknownSessionError",
]
