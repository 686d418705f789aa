"""``smp-compat init``'s parts: detect the tool, render its files, write only what is ours."""
