"""The kit inside other tools: the pytest plugin and its session check."""
