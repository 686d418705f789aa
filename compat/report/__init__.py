"""Reports built from ``matrix.json`` alone: HTML page, Markdown, JUnit XML, badges and diffs."""
