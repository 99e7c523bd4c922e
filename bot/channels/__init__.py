"""Channels: each one translates its messages to and from the core's, sends, and owns its HTTP routes."""
