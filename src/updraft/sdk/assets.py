"""Assets (Airflow 3) and datasets (Airflow 2): named pieces of data that tasks update and that
DAGs can be scheduled on.

Owns ``Asset`` (and its Airflow 2 name ``Dataset``), the conditions ``AssetAll`` / ``AssetAny``
built with ``&`` and ``|``, ``Metadata`` (extra data a task attaches to the event it emits), the
outlet-event accessors a running task sees as ``outlet_events``, and the JSON form of a condition
that the stored DAG carries. Nothing here touches the database: the runtime records the events.

An asset is identified by its name and URI together; either one defaults to the other.
``AssetAlias`` and the ``@asset`` decorator are not supported: using them raises a clear error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from updraft.sdk.exceptions import DagDefinitionError

__all__ = [
    "Asset", "AssetAlias", "AssetAll", "AssetAny", "AssetKey", "BaseAsset", "Dataset", "DatasetAll",
    "DatasetAny", "Metadata", "InletEventsAccessors", "OutletEventAccessor", "OutletEventAccessors", "TriggeringAssetEvent",
    "TriggeringAssetEvents", "asset", "asset_outlets",
    "decode_asset", "decode_condition", "encode_asset",
]  # fmt: skip

#: What identifies an asset: (name, uri).
AssetKey = tuple[str, str]

MAX_LENGTH = 1500
_RESERVED_SCHEMES = frozenset({"airflow", "updraft"})


def _check_text(kind: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DagDefinitionError(f"asset {kind} must be a string, got {type(value).__name__}: {value!r}")
    if not value or value.isspace():
        raise DagDefinitionError(f"asset {kind} must not be empty")
    if len(value) > MAX_LENGTH:
        raise DagDefinitionError(f"asset {kind} {value[:40]!r}... is longer than {MAX_LENGTH} characters")
    return value


def _check_uri(uri: Any) -> str:
    """A URI as Airflow accepts it: ASCII, not in a reserved scheme, no credentials in it."""
    uri = _check_text("uri", uri)
    if not uri.isascii():
        raise DagDefinitionError(
            f"asset uri {uri!r} must contain only ASCII characters (percent-encode others)"
        )
    if uri != uri.strip():
        raise DagDefinitionError(f"asset uri {uri!r} must not start or end with whitespace")
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise DagDefinitionError(f"asset uri {uri!r} is not a valid URI: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme in _RESERVED_SCHEMES:
        raise DagDefinitionError(
            f"asset uri {uri!r} uses the reserved scheme {parts.scheme!r}: use your data's own scheme "
            "(s3://, file://, postgres://...) or a plain name"
        )
    if "://" in uri and (parts.username or parts.password):
        raise DagDefinitionError(
            f"asset uri {parts.scheme}://...@{parts.hostname} must not contain credentials"
        )
    return uri


def _check_extra(extra: Any, what: str) -> dict[str, Any]:
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise DagDefinitionError(f"{what} extra must be a dict, got {type(extra).__name__}: {extra!r}")
    try:
        return dict(json.loads(json.dumps(dict(extra), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise DagDefinitionError(f"{what} extra must be JSON-serializable: {exc}") from None


class BaseAsset:
    """An asset or a condition over assets; ``a & b`` needs both, ``a | b`` either."""

    def __and__(self, other: object) -> AssetAll:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(self, other)

    def __or__(self, other: object) -> AssetAny:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(self, other)

    def iter_assets(self) -> Iterator[Asset]:
        """Every asset the condition names (an asset may appear more than once)."""
        raise NotImplementedError

    def evaluate(self, updated: Iterable[AssetKey]) -> bool:
        """Whether the condition holds when the assets with these keys have been updated."""
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        """The JSON form stored in the serialized DAG (``decode_condition`` reads it back)."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False, init=False)
class Asset(BaseAsset):
    """A piece of data a task updates (``outlets=[...]``) and a DAG can be scheduled on.

    ``Asset("s3://bucket/key")`` names it by one string, used as both name and URI;
    ``Asset(name="orders", uri="s3://bucket/orders.csv")`` gives both. Two assets are the same
    when their name and URI are.
    """

    name: str
    uri: str
    group: str
    extra: dict[str, Any] = field(hash=False)

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str = "asset",
        extra: dict[str, Any] | None = None,
        watchers: Any = None,
    ) -> None:
        if name is None and uri is None:
            raise DagDefinitionError("an Asset needs a name or a uri (or both)")
        if watchers:
            raise DagDefinitionError("Asset watchers (event-driven scheduling) are not supported by updraft")
        if isinstance(uri, os.PathLike):  # e.g. an object-storage path
            uri = os.fspath(uri)
        checked_uri = _check_uri(uri if uri is not None else name)
        checked_name = _check_text("name", name if name is not None else uri)
        object.__setattr__(self, "name", checked_name)
        object.__setattr__(self, "uri", checked_uri)
        object.__setattr__(self, "group", _check_text("group", group))
        object.__setattr__(self, "extra", _check_extra(extra, f"asset {checked_name!r}"))

    @property
    def key(self) -> AssetKey:
        return (self.name, self.uri)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Asset):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        if self.name == self.uri:
            return f"Asset({self.uri!r})"
        return f"Asset(name={self.name!r}, uri={self.uri!r})"

    def iter_assets(self) -> Iterator[Asset]:
        yield self

    def evaluate(self, updated: Iterable[AssetKey]) -> bool:
        return self.key in set(updated)

    def encode(self) -> dict[str, Any]:
        return encode_asset(self)


class Dataset(Asset):
    """Airflow 2's name for an asset: ``Dataset(uri, extra=None)``; its name is its URI."""

    def __init__(
        self, uri: str, extra: dict[str, Any] | None = None, *, name: str | None = None, group: str = "asset"
    ) -> None:
        super().__init__(name=name, uri=uri, group=group, extra=extra)


class _Condition(BaseAsset):
    kind = ""

    def __init__(self, *objects: BaseAsset) -> None:
        if not objects:
            raise DagDefinitionError(f"{type(self).__name__}() needs at least one asset")
        flat: list[BaseAsset] = []
        for item in objects:
            if not isinstance(item, BaseAsset):
                raise DagDefinitionError(
                    f"{type(self).__name__} takes assets and asset conditions, not {type(item).__name__}: "
                    f"{item!r}"
                )
            # (a | b) | c is one AssetAny of three, as written
            flat.extend(item.objects if type(item) is type(self) else [item])  # type: ignore[attr-defined]
        self.objects: tuple[BaseAsset, ...] = tuple(flat)

    def iter_assets(self) -> Iterator[Asset]:
        for item in self.objects:
            yield from item.iter_assets()

    def encode(self) -> dict[str, Any]:
        return {"__type": self.kind, "objects": [item.encode() for item in self.objects]}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Condition):
            return NotImplemented
        return type(self) is type(other) and self.objects == other.objects

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.objects))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(item) for item in self.objects)})"


class AssetAll(_Condition):
    """Holds when every one of its assets/conditions holds (``a & b``; a schedule list)."""

    kind = "asset_all"

    def evaluate(self, updated: Iterable[AssetKey]) -> bool:
        keys = set(updated)
        return all(item.evaluate(keys) for item in self.objects)


class AssetAny(_Condition):
    """Holds when any one of its assets/conditions holds (``a | b``)."""

    kind = "asset_any"

    def evaluate(self, updated: Iterable[AssetKey]) -> bool:
        keys = set(updated)
        return any(item.evaluate(keys) for item in self.objects)


#: Airflow 2's names.
DatasetAll = AssetAll
DatasetAny = AssetAny


class AssetAlias(BaseAsset):
    """Not supported: an alias resolves to assets only while a task runs."""

    def __init__(self, name: str, group: str = "asset") -> None:
        raise DagDefinitionError(
            f"AssetAlias({name!r}) is not supported by updraft: name the Asset itself in the task's "
            "outlets and in the consumer DAG's schedule"
        )


def asset(*args: Any, **kwargs: Any) -> Any:
    """Airflow 3's ``@asset`` decorator is not supported; raises at DAG-file import."""
    raise DagDefinitionError(
        "@asset is not supported by updraft: write a DAG with a task that has outlets=[Asset(...)], "
        "and schedule the consumers on that Asset"
    )


@dataclass
class Metadata:
    """Extra data for the event of ``asset``: ``yield Metadata(asset, {"rows": 10})`` from a task."""

    asset: Asset
    extra: dict[str, Any]
    alias: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.asset, Asset):
            raise TypeError(f"Metadata needs an Asset, got {type(self.asset).__name__}: {self.asset!r}")
        if self.alias is not None:
            raise DagDefinitionError("Metadata(alias=...) is not supported: AssetAlias is not supported")
        self.extra = _check_extra(self.extra, f"Metadata of {self.asset!r}")


class OutletEventAccessor:
    """``outlet_events[asset]``: the event a task is about to emit; set ``.extra`` to add data."""

    def __init__(self, key: Asset) -> None:
        self.key = key
        self.extra: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"OutletEventAccessor(key={self.key!r}, extra={self.extra!r})"


class OutletEventAccessors(Mapping[Any, OutletEventAccessor]):
    """``outlet_events`` in a task's context: one accessor per asset, made on first use."""

    def __init__(self) -> None:
        self._by_key: dict[AssetKey, OutletEventAccessor] = {}

    def __getitem__(self, key: Any) -> OutletEventAccessor:
        if isinstance(key, str):
            key = Asset(key)
        if not isinstance(key, Asset):
            raise KeyError(f"outlet_events is keyed by Asset, got {type(key).__name__}: {key!r}")
        found = self._by_key.get(key.key)
        if found is None:
            found = self._by_key[key.key] = OutletEventAccessor(key)
        return found

    def __iter__(self) -> Iterator[Asset]:
        return (accessor.key for accessor in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def add_metadata(self, metadata: Metadata) -> None:
        self[metadata.asset].extra.update(metadata.extra)

    def extras(self) -> dict[AssetKey, dict[str, Any]]:
        """The extra set for each asset, checked to be JSON (what the events will store)."""
        return {
            key: _check_extra(accessor.extra, f"outlet_events[{accessor.key!r}]")
            for key, accessor in self._by_key.items()
            if accessor.extra
        }


@dataclass(frozen=True)
class TriggeringAssetEvent:
    """One recorded update of an asset, as a task of the run it triggered sees it."""

    id: int
    asset: Asset
    extra: dict[str, Any]
    source_dag_id: str | None
    source_run_id: str | None
    source_task_id: str | None
    source_map_index: int
    timestamp: datetime

    @property
    def uri(self) -> str:
        return self.asset.uri

    @property
    def dataset(self) -> Asset:  # Airflow 2's name
        return self.asset

    dataset_uri = uri


class TriggeringAssetEvents(Mapping[Any, list[TriggeringAssetEvent]]):
    """``triggering_asset_events``: the events that triggered the run, per asset, oldest first.

    Keyed by ``Asset``; a string key finds the asset with that URI (Airflow 2 keyed by URI) or
    name. ``by_uri()`` is Airflow 2's ``triggering_dataset_events`` (URI -> events).
    """

    def __init__(self, events: Iterable[TriggeringAssetEvent] = ()) -> None:
        self._events: dict[Asset, list[TriggeringAssetEvent]] = {}
        for event in events:
            self._events.setdefault(event.asset, []).append(event)

    def __getitem__(self, key: Any) -> list[TriggeringAssetEvent]:
        if isinstance(key, Asset):
            return self._events[key]
        if isinstance(key, str):
            for item, events in self._events.items():
                if key in (item.uri, item.name):
                    return events
        raise KeyError(key)

    def __iter__(self) -> Iterator[Asset]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"TriggeringAssetEvents({self._events!r})"

    def by_uri(self) -> dict[str, list[TriggeringAssetEvent]]:
        out: dict[str, list[TriggeringAssetEvent]] = {}
        for item, events in self._events.items():
            out.setdefault(item.uri, []).extend(events)
        return out


class InletEventsAccessors(Mapping[Any, list[TriggeringAssetEvent]]):
    """``inlet_events``: every recorded event of each asset in the task's inlets, oldest first
    (``inlet_events[asset][-1]`` is the latest). Read from the metadata DB on first use."""

    def __init__(self, inlets: Iterable[Any], load: Callable[[Asset], list[TriggeringAssetEvent]]) -> None:
        self._inlets = asset_outlets(list(inlets))
        self._load = load
        self._cache: dict[Asset, list[TriggeringAssetEvent]] = {}

    def _find(self, key: Any) -> Asset:
        for item in self._inlets:
            if key == item or (isinstance(key, str) and key in (item.uri, item.name)):
                return item
        raise KeyError(f"{key!r} is not an asset in this task's inlets ({self._inlets!r})")

    def __getitem__(self, key: Any) -> list[TriggeringAssetEvent]:
        item = self._find(key)
        if item not in self._cache:
            self._cache[item] = self._load(item)
        return self._cache[item]

    def __iter__(self) -> Iterator[Asset]:
        return iter(self._inlets)

    def __len__(self) -> int:
        return len(self._inlets)

    def for_asset(self, name: str | None = None, *, uri: str | None = None) -> list[TriggeringAssetEvent]:
        """Airflow 3's ``inlet_events.for_asset(name=...)`` / ``for_asset(uri=...)``."""
        for item in self._inlets:
            if (name is None or item.name == name) and (uri is None or item.uri == uri):
                return self[item]
        raise KeyError(f"no asset with name={name!r} uri={uri!r} in this task's inlets ({self._inlets!r})")


def encode_asset(item: Asset) -> dict[str, Any]:
    data: dict[str, Any] = {"__type": "asset", "name": item.name, "uri": item.uri, "group": item.group}
    if item.extra:
        data["extra"] = item.extra
    return data


def decode_asset(data: Mapping[str, Any]) -> Asset:
    return Asset(
        name=data["name"], uri=data["uri"], group=data.get("group", "asset"), extra=data.get("extra")
    )


def decode_condition(data: Mapping[str, Any]) -> BaseAsset:
    """Read an ``encode()``d asset or condition back."""
    kind = data.get("__type")
    if kind == "asset":
        return decode_asset(data)
    if kind in (AssetAll.kind, AssetAny.kind):
        cls = AssetAll if kind == AssetAll.kind else AssetAny
        return cls(*(decode_condition(item) for item in data["objects"]))
    raise ValueError(f"not a serialized asset condition: {data!r}")


def asset_outlets(outlets: Any) -> list[Asset]:
    """The assets among a task's outlets (a list, one asset or None), without repeats, in order."""
    if outlets is None:
        return []
    items = [outlets] if isinstance(outlets, BaseAsset) else list(outlets)
    for item in items:
        if isinstance(item, BaseAsset) and not isinstance(item, Asset):
            raise DagDefinitionError(f"outlets take assets, not conditions: {item!r}")
    return list(dict.fromkeys(item for item in items if isinstance(item, Asset)))
