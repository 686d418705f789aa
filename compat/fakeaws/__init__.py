"""The fake AWS: moto extended in-process, the session registry, proxy mode, and ``FakeAWS``."""

from compat.agent.errors import UnknownSessionError
from compat.agent.sessions import SessionRegistry, SessionSpec
from compat.fakeaws.errors import FakeAWSError
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.fakeaws.stage import Credentials, FakeAWS

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
