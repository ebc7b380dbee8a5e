"""Timetables: when a DAG runs and which data interval each run covers.

Owns the scheduling vocabulary (``DataInterval``, ``DagRunInfo``, ``TimeRestriction``), the
``Timetable`` base class users subclass, Airflow's built-in timetables (null, once, continuous,
and cron/delta in a data-interval and a trigger flavour), turning ``schedule=`` into a timetable,
asset-triggered schedules (``schedule=Asset(...)``, a list of assets, ``AssetOrTimeSchedule``),
the timetable's JSON form, and a short human description of a schedule.

Crons are evaluated in the DAG's time zone; every datetime handed out is aware UTC. Around DST
changes a wall-clock tick that does not exist moves forward past the gap, and one that happens
twice uses its second occurrence, as in Airflow. ``croniter`` is imported only when needed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from updraft.sdk.assets import AssetAll, BaseAsset, decode_condition
from updraft.sdk.exceptions import DagDefinitionError
from updraft.sdk.serde import decode_delta, encode_delta, encode_timezone, parse_timezone

if TYPE_CHECKING:
    from dateutil.relativedelta import relativedelta

    Delta = dt.timedelta | relativedelta

UTC = dt.timezone.utc

CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}  # fmt: skip


def _utcnow() -> dt.datetime:
    """The current time; tests replace this to freeze the clock."""
    return dt.datetime.now(UTC)


def _to_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _after_end(at: dt.datetime, restriction: TimeRestriction) -> bool:
    """Whether ``at`` is past the restriction's (inclusive) end date."""
    return restriction.latest is not None and at > _to_utc(restriction.latest)


@dataclass(frozen=True)
class DataInterval:
    """The span of data one DAG run works on; both ends are aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"a data interval needs time-zone-aware datetimes, got {self!r}")

    @classmethod
    def exact(cls, at: dt.datetime) -> DataInterval:
        """An interval that is a single point in time."""
        return cls(at, at)


@dataclass(frozen=True)
class DagRunInfo:
    """When a run may start (``run_after``) and the data interval it covers.

    ``logical_date`` defaults to ``data_interval.start``; trigger timetables set it to ``run_after``.
    """

    run_after: dt.datetime
    data_interval: DataInterval
    logical_date: dt.datetime = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.logical_date is None:
            object.__setattr__(self, "logical_date", self.data_interval.start)

    @classmethod
    def exact(cls, at: dt.datetime) -> DagRunInfo:
        """A run at one instant, covering that instant only."""
        return cls(at, DataInterval.exact(at))

    @classmethod
    def interval(cls, start: dt.datetime, end: dt.datetime) -> DagRunInfo:
        """A run covering [start, end] that may start once the interval has ended."""
        return cls(end, DataInterval(start, end))


@dataclass(frozen=True)
class TimeRestriction:
    """Bounds on automated runs: inclusive ``earliest``/``latest`` (start/end date), and catchup."""

    earliest: dt.datetime | None
    latest: dt.datetime | None
    catchup: bool


class Timetable:
    """Base class of every timetable; subclass it to write a custom schedule."""

    description: str = ""
    periodic: bool = True
    can_be_scheduled: bool = True
    run_ordering: Sequence[str] = ("data_interval_end", "logical_date")
    active_runs_limit: int | None = None

    @property
    def summary(self) -> str:
        """A short label for the UI (a cron string, ``@once``...)."""
        return type(self).__name__

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        """The data interval of a run triggered by hand at ``run_after`` (default: that instant)."""
        return DataInterval.exact(_to_utc(run_after))

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        """The run after ``last_automated_data_interval`` (None: the first), or None for no run."""
        raise NotImplementedError

    def validate(self) -> None:
        """Raise DagDefinitionError if the timetable is set up wrongly."""

    def serialize(self) -> dict[str, Any]:
        """JSON-compatible arguments that ``deserialize`` turns back into this timetable."""
        return {}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls()


_BUILTINS: dict[str, type[Timetable]] = {}


class ComparedBySerializedForm(Timetable):
    """Two instances are equal when they are of one class and serialize alike."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.serialize() == other.serialize()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(self.serialize(), sort_keys=True)))


class _Builtin(ComparedBySerializedForm):
    """Built-ins register themselves by name and compare equal by type and serialized form."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__ and not cls.__name__.startswith("_"):
            _BUILTINS[cls.__name__] = cls

    _fields: tuple[str, ...] = ()  # constructor arguments, kept as ``self._<name>``

    def serialize(self) -> dict[str, Any]:
        return {name: _ENCODE[name](getattr(self, "_" + name)) for name in self._fields}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        args = {name: _DECODE[name](data[name]) for name in cls._fields if name in data}
        return cls(**{("cron" if k == "expression" else k): v for k, v in args.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.serialize().items())})"

    # the stepping primitives of the periodic timetables; all take and return aware UTC
    _get_next: Callable[[dt.datetime], dt.datetime]
    _get_prev: Callable[[dt.datetime], dt.datetime]
    _align_to_next: Callable[[dt.datetime], dt.datetime]
    _align_to_prev: Callable[[dt.datetime], dt.datetime]


class NullTimetable(_Builtin):
    """``schedule=None``: never scheduled, runs only when triggered."""

    description = "Never, external triggers only"
    periodic = False
    can_be_scheduled = False
    run_ordering = ("logical_date",)
    summary = "None"  # type: ignore[assignment]

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        return None


class OnceTimetable(_Builtin):
    """``schedule="@once"``: one run at the start date (or now), whatever catchup says."""

    description = "Once, as soon as possible"
    periodic = False
    run_ordering = ("logical_date",)
    summary = "@once"  # type: ignore[assignment]

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            return None
        at = _to_utc(restriction.earliest) if restriction.earliest else _utcnow()
        if _after_end(at, restriction):
            return None
        return DagRunInfo.exact(at)


class ContinuousTimetable(_Builtin):
    """``schedule="@continuous"``: a new run as soon as the previous one ends, one at a time."""

    description = "As often as possible, one run at a time"
    periodic = False
    run_ordering = ("logical_date",)
    active_runs_limit = 1
    summary = "@continuous"  # type: ignore[assignment]

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        now = _utcnow()
        first = _to_utc(restriction.earliest) if restriction.earliest else now
        last = last_automated_data_interval
        if last is None:
            start, end = first, max(first, now)
        elif _to_utc(last.end) > now:  # the start date was moved into the future
            start, end = first, first + (last.end - last.start)
        else:
            start, end = _to_utc(last.end), now
        if _after_end(end, restriction):
            return None
        return DagRunInfo.interval(start, end)


# how each constructor argument of a built-in is stored in its serialized form, and read back
_ENCODE: dict[str, Callable[[Any], Any]] = {
    "expression": str, "timezone": encode_timezone, "delta": encode_delta, "interval": encode_delta,
    "run_immediately": lambda v: v.total_seconds() if isinstance(v, dt.timedelta) else v,
}  # fmt: skip
_DECODE: dict[str, Callable[[Any], Any]] = {
    "expression": str, "timezone": lambda v: v, "delta": decode_delta, "interval": decode_delta,
    "run_immediately": lambda v: v if v is None or isinstance(v, bool) else dt.timedelta(seconds=v),
}  # fmt: skip


def _validate_delta(delta: Delta) -> None:
    then = dt.datetime(2000, 1, 1)
    if then + delta <= then:
        raise DagDefinitionError(f"schedule interval must be positive, not {delta!r}")


class _CronMixin(_Builtin):
    """A cron expression evaluated in a time zone, stepping between ticks in UTC."""

    def __init__(self, cron: str, timezone: str | dt.tzinfo = "UTC") -> None:
        self._expression = CRON_PRESETS.get(cron.strip(), cron.strip())
        try:
            self._timezone = parse_timezone(timezone)
        except ValueError as exc:
            raise DagDefinitionError(str(exc)) from None
        self._every_hour = False
        self.validate()
        self.description = describe_cron(self._expression)

    @property
    def summary(self) -> str:
        return self._expression

    def validate(self) -> None:
        from croniter import CroniterBadDateError, CroniterError, croniter

        prefix = f"invalid cron expression {self._expression!r}"
        try:
            cron = croniter(self._expression, start_time=dt.datetime(2000, 1, 1))
            cron.get_next(dt.datetime)
        except CroniterBadDateError:
            raise DagDefinitionError(f"{prefix}: it never fires") from None
        except CroniterError as exc:
            raise DagDefinitionError(f"{prefix}: {exc}") from None
        self._every_hour = cron.expanded[1] == ["*"]

    def _aware(self, naive: dt.datetime) -> dt.datetime:
        """Local wall time to UTC: a skipped time moves past the gap, a repeated one is the 2nd."""
        first = naive.replace(tzinfo=self._timezone, fold=0)
        second = naive.replace(tzinfo=self._timezone, fold=1)
        off0, off1 = first.utcoffset(), second.utcoffset()
        is_repeated = off0 is not None and off1 is not None and off0 > off1
        return (second if is_repeated else first).astimezone(UTC)

    def _step(self, current: dt.datetime, forward: bool) -> dt.datetime:
        from croniter import croniter

        current = _to_utc(current)
        naive = current.astimezone(self._timezone).replace(tzinfo=None)
        cron = croniter(self._expression, start_time=naive)
        while True:  # loops again only when a DST change maps a tick onto the wrong side
            tick = cron.get_next(dt.datetime) if forward else cron.get_prev(dt.datetime)
            # a cron firing every hour steps by elapsed wall time, so a repeated hour still runs
            result = current + (tick - naive) if self._every_hour else self._aware(tick)
            if (result > current) if forward else (result < current):
                return result

    def _get_next(self, current: dt.datetime) -> dt.datetime:
        return self._step(current, forward=True)

    def _get_prev(self, current: dt.datetime) -> dt.datetime:
        return self._step(current, forward=False)

    def _align_to_next(self, current: dt.datetime) -> dt.datetime:
        nxt = self._get_next(current)
        return _to_utc(current) if self._get_prev(nxt) == current else nxt

    def _align_to_prev(self, current: dt.datetime) -> dt.datetime:
        prev = self._get_prev(current)
        return _to_utc(current) if self._get_next(prev) == current else prev


class _DeltaMixin(_Builtin):
    """A fixed step (timedelta or relativedelta), applied in UTC."""

    def __init__(self, delta: Delta) -> None:
        self._delta = delta

    @property
    def summary(self) -> str:
        return str(self._delta)

    @property
    def delta(self) -> Delta:
        return self._delta

    def validate(self) -> None:
        _validate_delta(self._delta)

    def _get_next(self, current: dt.datetime) -> dt.datetime:
        return _to_utc(current) + self._delta

    def _get_prev(self, current: dt.datetime) -> dt.datetime:
        return _to_utc(current) - self._delta

    def _align_to_next(self, current: dt.datetime) -> dt.datetime:
        return _to_utc(current)

    _align_to_prev = _align_to_next


class _DataIntervalTimetable(_Builtin):
    """Runs cover back-to-back intervals; each run starts when its interval has ended."""

    def _skip_to_latest(self, earliest: dt.datetime | None) -> dt.datetime:
        """Start of the latest complete interval (catchup=False), not before ``earliest``."""
        raise NotImplementedError

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        earliest = _to_utc(restriction.earliest) if restriction.earliest else None
        if not restriction.catchup:
            earliest = self._skip_to_latest(earliest)
        elif earliest is not None:
            earliest = self._align_to_next(earliest)
        last = last_automated_data_interval
        if last is None:
            if earliest is None:
                return None
            start = earliest
        else:
            start = self._align_to_prev(last.end)
            if start <= last.start:  # a zero-length last interval must not repeat its date
                start = self._get_next(last.start)
            if earliest is not None:
                start = max(start, earliest)
        if _after_end(start, restriction):
            return None
        return DagRunInfo.interval(start, self._get_next(start))


class CronDataIntervalTimetable(_CronMixin, _DataIntervalTimetable):
    """Airflow 2's cron schedule: a run covers the time between two ticks, after the second."""

    _fields = ("expression", "timezone")

    def _skip_to_latest(self, earliest: dt.datetime | None) -> dt.datetime:
        now = _utcnow()
        last_tick = self._get_prev(now)
        # if now is exactly a tick, [last_tick, now] is complete; else the one before it is
        start = last_tick if self._get_next(last_tick) == now else self._get_prev(last_tick)
        return start if earliest is None else max(start, self._align_to_next(earliest))

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        end = self._align_to_prev(run_after)
        return DataInterval(self._get_prev(end), end)


class DeltaDataIntervalTimetable(_DeltaMixin, _DataIntervalTimetable):
    """Airflow 2's ``schedule=timedelta(...)``: back-to-back intervals of one length."""

    _fields = ("delta",)

    def _skip_to_latest(self, earliest: dt.datetime | None) -> dt.datetime:
        now, delta = _utcnow(), self._delta
        if isinstance(delta, dt.timedelta) or not (delta.years or delta.months):
            stamp, seconds = now.timestamp(), _approx_seconds(delta)
            start = dt.datetime.fromtimestamp(stamp - stamp % seconds, UTC) - delta
        elif earliest is None:  # calendar steps have no epoch grid to align to
            start = now - delta
        else:  # step from the start date one period at a time, so month-end clamping sticks
            start = earliest
            while start + delta + delta <= now:
                start = start + delta
        return start if earliest is None else max(start, earliest)

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        end = _to_utc(run_after)
        return DataInterval(end - self._delta, end)


def _approx_seconds(delta: Delta) -> float:
    if isinstance(delta, dt.timedelta):
        return delta.total_seconds()
    days = delta.years * 365 + delta.months * 30 + delta.days
    return days * 86400.0 + delta.hours * 3600 + delta.minutes * 60 + delta.seconds + delta.microseconds / 1e6


class _TriggerTimetable(_Builtin):
    """A run at each trigger time; its data interval ends there and lasts ``interval``."""

    _interval: Delta = dt.timedelta(0)

    def _first_run(self) -> dt.datetime:
        return _utcnow()

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        at = _to_utc(run_after)
        return DataInterval(at - self._interval, at)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        last = last_automated_data_interval
        earliest = _to_utc(restriction.earliest) if restriction.earliest else None
        if restriction.catchup:
            if last is not None:
                at = self._get_next(last.end)
            else:
                at = self._first_run() if earliest is None else self._align_to_next(earliest)
        else:  # the latest tick not in the future, unless the start date or last run is later
            candidates = [self._align_to_prev(_utcnow())]
            if last is not None:
                candidates.append(self._get_next(last.end))
            elif earliest is None:
                candidates.append(self._first_run())
            if earliest is not None:
                candidates.append(self._align_to_next(earliest))
            at = max(candidates)
        if _after_end(at, restriction):
            return None
        return DagRunInfo(at, DataInterval(at - self._interval, at), logical_date=at)


class CronTriggerTimetable(_CronMixin, _TriggerTimetable):
    """Airflow 3's cron schedule: a run at each tick, like POSIX cron.

    ``run_immediately`` matters only with no start date and no earlier run: True runs the latest
    past tick at once; a timedelta runs it if it was at most that long ago; False or None (as in
    Airflow's code) run it if it was within a tenth of the gap between ticks (at least 5 minutes).
    """

    _fields = ("expression", "timezone", "interval", "run_immediately")

    def __init__(
        self,
        cron: str,
        timezone: str | dt.tzinfo = "UTC",
        *,
        interval: Delta = dt.timedelta(0),
        run_immediately: bool | dt.timedelta | None = False,
    ) -> None:
        super().__init__(cron, timezone)
        self._interval = interval
        self._run_immediately = run_immediately

    def _first_run(self) -> dt.datetime:
        now = _utcnow()
        past, upcoming = self._align_to_prev(now), self._align_to_next(now)
        if self._run_immediately is True:
            return past
        buffer = self._run_immediately
        if not isinstance(buffer, dt.timedelta):
            buffer = max((upcoming - past) / 10, dt.timedelta(minutes=5))
        return past if now - past <= buffer else upcoming


class DeltaTriggerTimetable(_DeltaMixin, _TriggerTimetable):
    """Airflow 3's ``schedule=timedelta(...)``: a run every ``delta``, the first one at once."""

    _fields = ("delta", "interval")

    def __init__(self, delta: Delta, *, interval: Delta = dt.timedelta(0)) -> None:
        super().__init__(delta)
        self._interval = interval


class AssetTriggeredTimetable(_Builtin):
    """``schedule=Asset(...)``, a list of assets (all of them) or a condition: the scheduler creates
    a run when the condition holds over the assets updated since the DAG's last such run."""

    description = "Triggered by assets"
    periodic = False
    can_be_scheduled = False
    run_ordering = ("logical_date",)
    summary = "Asset"  # type: ignore[assignment]

    def __init__(self, assets: BaseAsset) -> None:
        self.asset_condition = assets

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        return None

    def serialize(self) -> dict[str, Any]:
        return {"asset_condition": self.asset_condition.encode()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(decode_condition(data["asset_condition"]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.asset_condition!r})"


class AssetOrTimeSchedule(_Builtin):
    """Runs on a timetable's schedule and also whenever the asset condition holds."""

    def __init__(self, *, timetable: Timetable, assets: Any = None, datasets: Any = None) -> None:
        if assets is None:  # Airflow 2's DatasetOrTimeSchedule(timetable=..., datasets=...)
            assets = datasets
        if assets is None:
            raise DagDefinitionError("AssetOrTimeSchedule needs assets=[...] as well as a timetable")
        if not isinstance(timetable, Timetable):
            raise DagDefinitionError(f"AssetOrTimeSchedule needs a Timetable, got {timetable!r}")
        self.timetable = timetable
        self.asset_condition = _as_condition(assets)
        self.periodic = timetable.periodic
        self.can_be_scheduled = timetable.can_be_scheduled
        self.run_ordering = timetable.run_ordering
        self.active_runs_limit = timetable.active_runs_limit
        self.description = f"Triggered by assets or {describe_schedule(timetable)}"

    @property
    def summary(self) -> str:
        return f"Asset or {self.timetable.summary}"

    def infer_manual_data_interval(self, *, run_after: dt.datetime) -> DataInterval:
        return self.timetable.infer_manual_data_interval(run_after=run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        return self.timetable.next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval, restriction=restriction
        )

    def validate(self) -> None:
        self.timetable.validate()

    def serialize(self) -> dict[str, Any]:
        return {
            "timetable": serialize_timetable(self.timetable),
            "asset_condition": self.asset_condition.encode(),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(
            timetable=deserialize_timetable(data["timetable"]),
            assets=decode_condition(data["asset_condition"]),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(timetable={self.timetable!r}, assets={self.asset_condition!r})"


class DatasetOrTimeSchedule(AssetOrTimeSchedule):
    """Airflow 2's name: ``DatasetOrTimeSchedule(timetable=..., datasets=[...])``."""

    def __init__(self, *, timetable: Timetable, datasets: Any = None, assets: Any = None) -> None:
        super().__init__(timetable=timetable, assets=datasets if datasets is not None else assets)


def _as_condition(value: Any) -> BaseAsset:
    """An asset, a condition, or a non-empty collection of them (all of them)."""
    if isinstance(value, BaseAsset):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if not items:
            raise DagDefinitionError("an asset schedule needs at least one asset; use schedule=None for none")
        bad = [item for item in items if not isinstance(item, BaseAsset)]
        if bad:
            raise DagDefinitionError(
                f"an asset schedule lists assets only; {bad[0]!r} (type {type(bad[0]).__name__}) is not one"
            )
        return items[0] if len(items) == 1 else AssetAll(*items)
    raise DagDefinitionError(f"expected an Asset, a condition or a list of assets, got {value!r}")


def asset_condition_of(timetable: Timetable) -> BaseAsset | None:
    """The asset condition a DAG is scheduled on, if any."""
    condition = getattr(timetable, "asset_condition", None)
    return condition if isinstance(condition, BaseAsset) else None


def create_timetable(
    schedule: object,
    *,
    timezone: str | dt.tzinfo = "UTC",
    create_cron_data_intervals: bool = False,
    create_delta_data_intervals: bool = False,
) -> Timetable:
    """Turn a DAG's ``schedule=`` value into a timetable, as Airflow 3 does.

    Cron strings and presets give a CronTriggerTimetable (CronDataIntervalTimetable with
    ``create_cron_data_intervals``); a timedelta or relativedelta gives a DeltaTriggerTimetable
    (DeltaDataIntervalTimetable with ``create_delta_data_intervals``).
    """
    if schedule is None:
        return NullTimetable()
    if isinstance(schedule, Timetable):
        return schedule
    if isinstance(schedule, BaseAsset) or (
        isinstance(schedule, (list, tuple, set, frozenset))
        and all(isinstance(item, BaseAsset) for item in schedule)
    ):
        return AssetTriggeredTimetable(_as_condition(schedule))
    if isinstance(schedule, str):
        text = schedule.strip()
        if text in ("@once", "@continuous"):
            return OnceTimetable() if text == "@once" else ContinuousTimetable()
        if text.startswith("@") and text not in CRON_PRESETS:
            known = ", ".join(["@once", "@continuous", *CRON_PRESETS])
            raise DagDefinitionError(f"unknown schedule preset {schedule!r}: use one of {known}")
        if create_cron_data_intervals:
            return CronDataIntervalTimetable(text, timezone)
        return CronTriggerTimetable(text, timezone)
    if isinstance(schedule, dt.timedelta) or type(schedule).__name__ == "relativedelta":
        delta: Delta = schedule  # type: ignore[assignment]
        _validate_delta(delta)
        return (
            DeltaDataIntervalTimetable(delta) if create_delta_data_intervals else DeltaTriggerTimetable(delta)
        )
    raise DagDefinitionError(
        f"invalid schedule {schedule!r} (type {type(schedule).__name__}): expected None, a cron string "
        "or preset ('@daily', '@once', '@continuous'...), a timedelta, a relativedelta, a Timetable, an "
        "Asset, a list of assets or an asset condition"
    )


_AIRFLOW_MODULES = (
    "airflow.timetables.simple",
    "airflow.timetables.interval",
    "airflow.timetables.trigger",
    "airflow.timetables.assets",
    "airflow.timetables.datasets",
    "airflow.timetables.events",
)
#: built-ins that live in a module of their own (it imports this one), by class name
_ELSEWHERE = {
    "EventsTimetable": "updraft.sdk.timetables_extra",
    "MultipleCronTriggerTimetable": "updraft.sdk.timetables_extra",
}


def serialize_timetable(timetable: Timetable) -> dict[str, Any]:
    """``{"__type": "<module>.<Class>", "__var": timetable.serialize()}``."""
    cls = type(timetable)
    return {"__type": f"{cls.__module__}.{cls.__qualname__}", "__var": timetable.serialize()}


def deserialize_timetable(data: dict[str, Any]) -> Timetable:
    """Inverse of ``serialize_timetable``; Airflow's class paths map to our built-ins."""
    try:
        path, var = data["__type"], data.get("__var") or {}
    except (KeyError, TypeError, AttributeError):
        raise DagDefinitionError(f"not a serialized timetable: {data!r}") from None
    module_name, _, name = path.rpartition(".")
    if module_name in (__name__, *_AIRFLOW_MODULES) and name in _BUILTINS:
        return _BUILTINS[name].deserialize(var)
    if module_name in _AIRFLOW_MODULES and name in _ELSEWHERE:
        module_name = _ELSEWHERE[name]
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DagDefinitionError(f"cannot import timetable class {path!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Timetable)):
        raise DagDefinitionError(f"{path!r} is not a Timetable subclass")
    return cls.deserialize(var)


_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _join(items: Sequence[object]) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _nums(text: str, high: int) -> list[int] | None:
    """The plain numbers of a cron field (``5``, ``1,15``); None for anything fancier."""
    parts = text.split(",")
    return [int(p) for p in parts] if all(p.isdigit() and int(p) <= high for p in parts) else None


def _every(text: str) -> int | None:
    """1 for ``*``, N for ``*/N``."""
    return 1 if text == "*" else int(text[2:]) if text.startswith("*/") and text[2:].isdigit() else None


def describe_cron(expression: str) -> str:
    """A short English reading of a five-field cron; the expression itself if it is unusual."""
    expression = CRON_PRESETS.get(expression.strip(), expression.strip())
    fields = expression.split()
    if len(fields) != 5 or fields[3] != "*":
        return expression
    minute, hour, dom, _, dow = fields
    minutes, hours, days, weekdays = _nums(minute, 59), _nums(hour, 23), _nums(dom, 31), _nums(dow, 7)
    if (n := _every(minute)) and hour == "*":
        when = "Every minute" if n == 1 else f"Every {n} minutes"
    elif minutes is not None and (n := _every(hour)):
        when = ("Every hour" if n == 1 else f"Every {n} hours") + (
            minutes != [0]
        ) * f" at minute {_join(minutes)}"
    elif minutes is not None and hours is not None and len(hours) * len(minutes) <= 4:
        when = "At " + _join([f"{h:02d}:{m:02d}" for h in hours for m in minutes])
    else:
        return expression
    first, _, last = dow.partition("-")
    if dom == "*" and dow == "*":
        return when + " every day" * when.startswith("At ")
    if dom == "*" and weekdays is not None:
        return f"{when} on {_join([_DAYS[d] for d in weekdays])}"
    if dom == "*" and first.isdigit() and last.isdigit() and max(int(first), int(last)) <= 7:
        return f"{when}, {_DAYS[int(first)]} through {_DAYS[int(last)]}"
    if dow == "*" and days is not None:
        return f"{when} on day{'s' * (len(days) > 1)} {_join(days)} of the month"
    return expression


def _describe_delta(delta: Delta) -> str:
    if isinstance(delta, dt.timedelta):
        minutes, seconds = divmod(delta.seconds, 60)
        amounts = {"day": delta.days, "hour": minutes // 60, "minute": minutes % 60, "second": seconds}
    else:
        amounts = {u: getattr(delta, u + "s") for u in ("year", "month", "day", "hour", "minute", "second")}
    used = [f"{n} {unit}{'s' * (n != 1)}" for unit, n in amounts.items() if n]
    if len(used) == 1 and used[0].startswith("1 "):
        return "Every " + used[0][2:]
    return "Every " + (_join(used) if used else str(delta))


def describe_schedule(timetable: Timetable) -> str:
    """A short description for the UI and CLI, e.g. "At 02:00 every day" or "Manual only"."""
    if isinstance(timetable, NullTimetable):
        return "Manual only"
    if isinstance(timetable, OnceTimetable):
        return "Once"
    if isinstance(timetable, ContinuousTimetable):
        return "Continuously, one run at a time"
    if isinstance(timetable, _CronMixin):
        return describe_cron(timetable.summary)
    if isinstance(timetable, _DeltaMixin):
        return _describe_delta(timetable.delta)
    return timetable.description or timetable.summary


__all__ = [
    "CRON_PRESETS", "AssetOrTimeSchedule", "AssetTriggeredTimetable", "DatasetOrTimeSchedule",
    "asset_condition_of", "ContinuousTimetable", "CronDataIntervalTimetable", "CronTriggerTimetable", "DagRunInfo",
    "DataInterval", "DeltaDataIntervalTimetable", "DeltaTriggerTimetable", "NullTimetable", "OnceTimetable",
    "TimeRestriction", "Timetable", "create_timetable", "describe_cron", "describe_schedule",
    "deserialize_timetable", "serialize_timetable",
]  # fmt: skip
