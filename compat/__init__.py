"""The smp-compat harness: fake AWS, fake SSM agent, scenarios, runner, verdicts, matrix, reports."""
