"""``poke_mode_only``: a class decorator that keeps a sensor in poke mode."""

from __future__ import annotations

from typing import Any


def poke_mode_only(cls: type[Any]) -> type[Any]:
    """Make ``cls`` refuse any mode other than "poke", as Airflow's decorator does."""
    original_init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        mode = kwargs.get("mode", "poke")
        if mode != "poke":
            raise ValueError(f"{cls.__name__} only supports mode='poke', got mode={mode!r}")
        original_init(self, *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls
