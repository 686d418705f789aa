"""The fake SSM agent: the agent/MGS side of the data channel, over a real websocket."""
