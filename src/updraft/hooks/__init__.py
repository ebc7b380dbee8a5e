"""``from updraft.hooks import BaseHook``."""

from updraft.sdk.base_hook import BaseHook

__all__ = ["BaseHook"]
