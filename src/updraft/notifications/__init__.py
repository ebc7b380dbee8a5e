"""Notifiers: callables for ``on_failure_callback`` and friends that tell people (email, Slack)."""
