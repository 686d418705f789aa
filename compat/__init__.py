"""The smp-compat harness: fake AWS, fake agent, scenarios, runner, verdicts, matrix, reports."""
