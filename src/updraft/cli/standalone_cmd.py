"""``updraft standalone`` (defined with the scheduler command)."""

from updraft.cli.scheduler_cmd import standalone as command

__all__ = ["command"]
