"""The adapter file: its model, loading and validation, templates and replays."""
