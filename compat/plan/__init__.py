"""The plan: scenarios, the cells of a run and their shards."""
