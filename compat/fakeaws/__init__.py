"""The fake AWS: moto extended in-process, the session registry, proxy mode, and ``FakeAWS``."""
