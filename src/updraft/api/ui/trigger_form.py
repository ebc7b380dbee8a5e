"""The trigger form: fields built from a DAG's Params, and the submitted form turned into a conf.

:func:`form_fields` describes one input per param (kind, default, enum, description);
:func:`conf_from_form` parses what was submitted into a conf dict and an error per field, each
param checked against its own JSON schema so the error can be shown next to its input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from updraft.sdk.exceptions import ParamValidationError
from updraft.sdk.params import NOTSET, Param, ParamsDict

__all__ = ["CONF_FIELD", "FormField", "conf_from_form", "form_fields"]

CONF_FIELD = "conf_json"
_JSON_KINDS = {"object", "array", "json"}


@dataclass
class FormField:
    name: str
    kind: str  # text, number, integer, boolean, select, date, datetime, object, array, json
    value: str = ""  # what the input shows
    checked: bool = False
    options: list[str] = field(default_factory=list)
    description: str | None = None
    title: str | None = None
    required: bool = False
    nullable: bool = False


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return [str(kind)] if kind else []


def _kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    types = [t for t in _types(schema) if t != "null"]
    if len(types) != 1:
        return "json"
    kind = types[0]
    if kind == "string":
        fmt = schema.get("format")
        return {"date": "date", "date-time": "datetime"}.get(str(fmt), "text")
    return kind if kind in {"number", "integer", "boolean", "object", "array"} else "json"


def _shown(value: Any, kind: str) -> str:
    if value is NOTSET or value is None:
        return ""
    if kind in _JSON_KINDS or (kind == "select" and not isinstance(value, str)):
        return json.dumps(value, indent=2) if kind in _JSON_KINDS else json.dumps(value)
    if kind == "datetime" and isinstance(value, str):
        return value[:19]  # datetime-local shows no zone or fraction
    return str(value)


def form_fields(params: ParamsDict, submitted: dict[str, str] | None = None) -> list[FormField]:
    """One field per param, showing the submitted value when re-rendering after an error."""
    fields = []
    for name, param in params.items():
        schema = param.schema
        kind = _kind(schema)
        default = param.value
        item = FormField(
            name=name,
            kind=kind,
            description=param.description or schema.get("description"),
            title=schema.get("title"),
            nullable="null" in _types(schema),
            required=default is NOTSET,
        )
        if kind == "select":
            item.options = [o if isinstance(o, str) else json.dumps(o) for o in schema["enum"]]
        if submitted is not None:
            item.value = submitted.get(f"param:{name}", "")
            item.checked = submitted.get(f"param:{name}") == "true"
        else:
            item.value = _shown(default, kind)
            item.checked = default is True
        fields.append(item)
    return fields


def _parse(raw: str, kind: str, param: Param) -> Any:
    if kind == "boolean":
        return raw == "true"
    text = raw.strip()
    if text == "":
        return None if "null" in _types(param.schema) or param.value is None else NOTSET
    if kind in _JSON_KINDS:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ParamValidationError(f"not valid JSON: {exc}") from None
    if kind == "select":
        options = param.schema.get("enum") or []
        for option in options:
            if (option if isinstance(option, str) else json.dumps(option)) == text:
                return option
        raise ParamValidationError(f"{text!r} is not one of the choices")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ParamValidationError(f"{text!r} is not a whole number") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ParamValidationError(f"{text!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "datetime" and len(text) == 16:
        return text + ":00"  # datetime-local without seconds
    return text


def conf_from_form(params: ParamsDict, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The conf a submitted trigger form asks for, and the error of each bad field (by name).

    The JSON conf field may add keys that are not params, and wins over a param's field for a
    key it also sets. Every param is then checked against its schema.
    """
    errors: dict[str, str] = {}
    conf: dict[str, Any] = {}
    raw_conf = form.get(CONF_FIELD, "").strip()
    extra: dict[str, Any] = {}
    if raw_conf:
        try:
            extra = json.loads(raw_conf)
        except ValueError as exc:
            errors[CONF_FIELD] = f"not valid JSON: {exc}"
        else:
            if not isinstance(extra, dict):
                errors[CONF_FIELD] = 'the conf must be a JSON object, e.g. {"key": "value"}'
                extra = {}
    for name, param in params.items():
        kind = _kind(param.schema)
        if name in extra:
            value = extra[name]
        else:
            try:
                value = _parse(form.get(f"param:{name}", ""), kind, param)
            except ParamValidationError as exc:
                errors[name] = str(exc)
                continue
        try:
            resolved = Param(param.value, param.description, schema=param.schema).resolve(value, key=name)
        except ParamValidationError as exc:
            errors[name] = str(exc)
            continue
        if value is not NOTSET:
            conf[name] = resolved
    for key, value in extra.items():
        if key not in params:
            conf[key] = value
    return conf, errors
