"""DAG and task params: ``Param`` (a default plus a JSON schema), ``ParamsDict`` (the params a
DAG or task carries), and merging a run's conf over them into the run's effective params.

Values are validated with JSON Schema (Draft 2020-12); ``jsonschema`` is imported the first time
a param is validated, not when a DAG file imports this module. Formats ``date``, ``date-time``
and ``time`` accept ISO 8601 strings.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from typing import Any

from updraft.sdk.exceptions import ParamValidationError


class _NotSet:
    """The type of ``NOTSET``: no value given (distinct from None, which is a value)."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOTSET"

    def __copy__(self) -> _NotSet:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _NotSet:
        return self


NOTSET: Any = _NotSet()


def _named(key: str | None) -> str:
    return f"param {key!r}" if key is not None else "param"


def _check_json(value: Any, key: str | None) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParamValidationError(
            f"Invalid value for {_named(key)}: {value!r} is not JSON-serializable ({exc}); params hold "
            "JSON values only (give a date as an ISO string)"
        ) from None


_FORMAT_CHECKER: Any = None


def _format_checker() -> Any:
    """A FormatChecker whose date/time formats accept ISO 8601 (no rfc3339 package needed)."""
    global _FORMAT_CHECKER
    if _FORMAT_CHECKER is None:
        from jsonschema import FormatChecker

        checker = FormatChecker()

        @checker.checks("date-time", raises=ValueError)
        def _date_time(value: object) -> bool:
            if isinstance(value, str):
                if len(value) < 11 or value[10] not in "Tt ":
                    return False
                dt.datetime.fromisoformat(value)
            return True

        @checker.checks("date", raises=ValueError)
        def _date(value: object) -> bool:
            if isinstance(value, str):
                if len(value) != 10:
                    return False
                dt.date.fromisoformat(value)
            return True

        @checker.checks("time", raises=ValueError)
        def _time(value: object) -> bool:
            if isinstance(value, str):
                dt.time.fromisoformat(value)
            return True

        _FORMAT_CHECKER = checker
    return _FORMAT_CHECKER


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


class Param:
    """A DAG or task param: a default value, a description, and JSON Schema keywords.

    ``Param(5, type="integer", minimum=0)``; ``schema=`` may also pass the schema as one dict.
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        if default is not NOTSET:
            _check_json(default, None)
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = schema.pop("schema") if "schema" in schema else schema
        self._validator: Any = None
        self._validator_for: Any = None

    @property
    def has_value(self) -> bool:
        """Whether the param holds a value other than None."""
        return self.value is not NOTSET and self.value is not None

    def _validate(self, value: Any, key: str | None) -> None:
        if self._validator is None or self._validator_for is not self.schema:
            from jsonschema import Draft202012Validator, SchemaError

            try:
                Draft202012Validator.check_schema(self.schema)
            except SchemaError as exc:
                raise ParamValidationError(f"{_named(key)} has an invalid schema: {exc.message}") from None
            self._validator = Draft202012Validator(self.schema, format_checker=_format_checker())
            self._validator_for = self.schema
        from jsonschema.exceptions import best_match

        error = best_match(self._validator.iter_errors(value))
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            where = f" (at {where})" if where else ""
            raise ParamValidationError(f"Invalid value for {_named(key)}: {error.message}{where}")

    def resolve(
        self, value: Any = NOTSET, suppress_exception: bool = False, *, key: str | None = None
    ) -> Any:
        """Validate ``value`` (or the current value) against the schema, keep it and return it.

        With ``suppress_exception`` an invalid or missing value gives None instead of raising.
        ``key`` names the param in error messages.
        """
        try:
            if value is not NOTSET:
                _check_json(value, key)
            final = self.value if value is NOTSET else value
            if final is NOTSET:
                if not _nullable(self.schema):
                    raise ParamValidationError(f"{_named(key)} is required: it has no default and no value")
                final = None
            self._validate(final, key)
        except ParamValidationError:
            if suppress_exception:
                return None
            raise
        if value is not NOTSET:
            self.value = value
        return final

    def dump(self) -> dict[str, Any]:
        """JSON form: ``{"default": ..., "description": ..., "schema": {...}}`` ("default" only if set)."""
        out: dict[str, Any] = {"description": self.description, "schema": self.schema}
        if self.value is not NOTSET:
            out["default"] = self.value
        return out

    @classmethod
    def deserialize(cls, data: Mapping[str, Any]) -> Param:
        """Inverse of ``dump``; Airflow's ``value`` key is read as the default too."""
        default = data.get("default", data.get("value", NOTSET))
        return cls(default, data.get("description"), schema=dict(data.get("schema") or {}))

    def __copy__(self) -> Param:
        clone = Param(self.value, self.description, schema=self.schema)
        clone._validator, clone._validator_for = self._validator, self._validator_for
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> Param:
        clone = Param(
            copy.deepcopy(self.value, memo), self.description, schema=copy.deepcopy(self.schema, memo)
        )
        clone._validator, clone._validator_for = self._validator, clone.schema  # same schema content
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Param):
            return NotImplemented
        return self.dump() == other.dump()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Param({self.value!r}, description={self.description!r}, schema={self.schema!r})"


class ParamsDict(MutableMapping[str, Any]):
    """The params of a DAG or task, by name.

    Setting a plain value on an existing param validates it against that param's schema; setting
    a new name wraps the value in a schema-less Param. Reading ``params[name]`` gives the value.
    Like Airflow, ``items()`` and ``values()`` give the ``Param`` objects (use ``validate()`` for
    a plain dict of values).
    """

    __slots__ = ("_params", "suppress_exception")

    def __init__(self, dict_obj: Mapping[str, Any] | None = None, suppress_exception: bool = False) -> None:
        self._params: dict[str, Param] = {}
        self.suppress_exception = suppress_exception
        source = dict_obj._params if isinstance(dict_obj, ParamsDict) else (dict_obj or {})
        for key, value in source.items():
            self._params[self._checked_key(key)] = (
                value if isinstance(value, Param) else self._new(key, value)
            )

    @staticmethod
    def _checked_key(key: object) -> str:
        if not isinstance(key, str):
            raise ParamValidationError(f"param names must be strings, got {key!r}")
        return key

    @staticmethod
    def _new(key: str, value: Any) -> Param:
        _check_json(value, key)
        return Param(value)

    def __setitem__(self, key: str, value: Any) -> None:
        key = self._checked_key(key)
        if isinstance(value, Param):
            self._params[key] = value
        elif key in self._params:
            param = copy.copy(self._params[key])  # never change a Param another dict may share
            if self.suppress_exception:
                param.value = value
            else:
                param.resolve(value, key=key)
            self._params[key] = param
        else:
            self._params[key] = self._new(key, value)

    def __getitem__(self, key: str) -> Any:
        return self._params[key].resolve(suppress_exception=self.suppress_exception, key=key)

    def __delitem__(self, key: str) -> None:
        del self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, key: object) -> bool:
        return key in self._params

    def get_param(self, key: str) -> Param:
        """The ``Param`` object behind ``key``."""
        return self._params[key]

    def items(self) -> ItemsView[str, Param]:  # type: ignore[override]
        return self._params.items()

    def values(self) -> ValuesView[Param]:  # type: ignore[override]
        return self._params.values()

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Merge params: Params replace, plain values are validated against existing params."""
        if isinstance(other, ParamsDict):
            other = other._params
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in [*pairs, *kwargs.items()]:
            self[key] = value

    def validate(self) -> dict[str, Any]:
        """Every param's value, validated; ParamValidationError names the first bad param."""
        return {
            key: param.resolve(suppress_exception=self.suppress_exception, key=key)
            for key, param in self._params.items()
        }

    def dump(self) -> dict[str, dict[str, Any]]:
        """JSON form: ``{name: Param.dump()}``."""
        return {key: param.dump() for key, param in self._params.items()}

    @classmethod
    def deserialize(cls, data: Mapping[str, Mapping[str, Any]]) -> ParamsDict:
        """Inverse of ``dump``."""
        return cls({key: Param.deserialize(value) for key, value in data.items()})

    def __copy__(self) -> ParamsDict:
        return ParamsDict(self, self.suppress_exception)

    def __deepcopy__(self, memo: dict[int, Any]) -> ParamsDict:
        return ParamsDict(copy.deepcopy(self._params, memo), self.suppress_exception)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ParamsDict):
            return self.dump() == other.dump()
        if isinstance(other, Mapping):
            values = {k: p.resolve(suppress_exception=True, key=k) for k, p in self._params.items()}
            return values == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ParamsDict({self._params!r})"


def merge_conf_into_params(
    params: ParamsDict | Mapping[str, Any] | None,
    conf: Mapping[str, Any] | None,
    *,
    conf_overrides_params: bool = True,
) -> dict[str, Any]:
    """A run's effective params: the DAG's params with the run's conf laid over them, validated.

    As in Airflow (``core.dag_run_conf_overrides_params``), a conf key that names a param
    overrides its value and must satisfy its schema, and a conf key that is not a param is added
    as a param without a schema. ``params`` itself is not changed. Raises ParamValidationError
    naming the param at fault.
    """
    if conf is not None and not isinstance(conf, Mapping):
        raise ParamValidationError(f"run conf must be a JSON object, got {type(conf).__name__}")
    effective = copy.deepcopy(params) if isinstance(params, ParamsDict) else ParamsDict(params)
    if conf and conf_overrides_params:
        effective.update(conf)
    return effective.validate()


__all__ = ["NOTSET", "Param", "ParamsDict", "merge_conf_into_params"]
