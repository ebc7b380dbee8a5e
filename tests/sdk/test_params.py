"""Params: validation messages, required params, run conf overrides, copies and round trips."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from updraft.sdk.exceptions import ParamValidationError
from updraft.sdk.params import NOTSET, Param, ParamsDict, merge_conf_into_params


def dag_params() -> ParamsDict:
    return ParamsDict(
        {
            "n": Param(5, type="integer", minimum=0, maximum=10, description="how many"),
            "mode": Param("fast", enum=["fast", "slow"]),
            "name": Param(type="string", minLength=2),
            "note": Param(type=["null", "string"]),
            "plain": "hello",
        }
    )


def test_reading_a_param_gives_its_value() -> None:
    params = ParamsDict({"n": Param(5, type="integer"), "plain": [1, 2]})
    assert params["n"] == 5
    assert params["plain"] == [1, 2]
    assert isinstance(params.get_param("n"), Param)
    assert params.get("missing", "dflt") == "dflt"
    assert "n" in params and len(params) == 2 and list(params) == ["n", "plain"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("n", -1, "Invalid value for param 'n': -1 is less than the minimum of 0"),
        ("n", 11, "Invalid value for param 'n': 11 is greater than the maximum of 10"),
        ("n", "5", "Invalid value for param 'n': '5' is not of type 'integer'"),
        ("n", True, "Invalid value for param 'n': True is not of type 'integer'"),
        ("mode", "medium", "Invalid value for param 'mode': 'medium' is not one of ['fast', 'slow']"),
        ("name", "x", "Invalid value for param 'name': 'x' is too short"),
    ],
)
def test_validation_errors_name_the_param(key: str, value: Any, message: str) -> None:
    params = dag_params()
    with pytest.raises(ParamValidationError) as err:
        params[key] = value
    assert str(err.value) == message


def test_a_param_without_default_or_value_is_required() -> None:
    with pytest.raises(ParamValidationError, match="param 'name' is required"):
        dag_params().validate()


def test_a_nullable_param_without_default_resolves_to_none() -> None:
    params = dag_params()
    params["name"] = "alice"
    assert params.validate() == {"n": 5, "mode": "fast", "name": "alice", "note": None, "plain": "hello"}


def test_a_standalone_param_validates_and_keeps_its_value() -> None:
    param = Param(3, type="number", minimum=1)
    assert param.resolve() == 3 and param.has_value
    assert param.resolve(2.5) == 2.5 and param.value == 2.5
    with pytest.raises(
        ParamValidationError, match=r"^Invalid value for param: 0 is less than the minimum of 1$"
    ):
        param.resolve(0)
    assert param.resolve(0, suppress_exception=True) is None
    assert param.value == 2.5
    assert not Param().has_value and not Param(None).has_value


def test_formats_accept_iso_strings() -> None:
    params = ParamsDict(
        {
            "day": Param("2024-02-29", type="string", format="date"),
            "at": Param("2024-02-29T10:00:00+01:00", type="string", format="date-time"),
            "clock": Param("10:30:00", type="string", format="time"),
        }
    )
    assert params.validate()["day"] == "2024-02-29"
    for key, bad in [("day", "2023-02-29"), ("at", "2024-02-29"), ("at", "tomorrow"), ("clock", "25:00")]:
        with pytest.raises(ParamValidationError, match=f"param '{key}'"):
            params[key] = bad


def test_nested_schema_errors_say_where() -> None:
    param = Param(
        {"ids": [1, 2]}, type="object", properties={"ids": {"type": "array", "items": {"type": "integer"}}}
    )
    with pytest.raises(ParamValidationError, match=r"'x' is not of type 'integer' \(at \['ids'\]\[1\]\)"):
        ParamsDict({"cfg": param})["cfg"] = {"ids": [1, "x"]}


def test_values_must_be_json() -> None:
    import datetime as dt

    with pytest.raises(ParamValidationError, match=r"param 'when'.*not JSON-serializable"):
        ParamsDict({"when": dt.date(2024, 1, 1)})
    with pytest.raises(ParamValidationError, match="not JSON-serializable"):
        Param(default=object())


def test_an_invalid_schema_is_reported() -> None:
    with pytest.raises(ParamValidationError, match="param 'x' has an invalid schema"):
        ParamsDict({"x": Param(1, type="nonsense")}).validate()


def test_conf_overrides_defaults() -> None:
    params = dag_params()
    effective = merge_conf_into_params(params, {"n": 7, "name": "bob"})
    assert effective == {"n": 7, "mode": "fast", "name": "bob", "note": None, "plain": "hello"}
    # the DAG's own params are untouched
    assert params["n"] == 5 and params.get_param("name").value is NOTSET


def test_invalid_conf_names_the_param() -> None:
    with pytest.raises(ParamValidationError, match=r"^Invalid value for param 'n': 99 is greater than"):
        merge_conf_into_params(dag_params(), {"n": 99, "name": "bob"})
    with pytest.raises(ParamValidationError, match="param 'name' is required"):
        merge_conf_into_params(dag_params(), {"n": 1})
    with pytest.raises(ParamValidationError, match="run conf must be a JSON object"):
        merge_conf_into_params(dag_params(), ["n", 1])  # type: ignore[arg-type]


def test_conf_keys_that_are_not_params_are_added_as_in_airflow() -> None:
    effective = merge_conf_into_params(ParamsDict({"n": 1}), {"extra": {"a": 1}})
    assert effective == {"n": 1, "extra": {"a": 1}}


def test_conf_can_be_ignored() -> None:
    effective = merge_conf_into_params(ParamsDict({"n": 1}), {"n": 2}, conf_overrides_params=False)
    assert effective == {"n": 1}
    assert merge_conf_into_params(None, None) == {}


def test_update_merges_params_and_checks_plain_values() -> None:
    params = ParamsDict({"n": Param(1, type="integer")})
    params.update(ParamsDict({"m": Param("a", type="string")}))
    params.update({"n": 2}, extra=True)
    assert params.validate() == {"n": 2, "m": "a", "extra": True}
    assert params.get_param("m").schema == {"type": "string"}
    with pytest.raises(ParamValidationError, match="param 'n'"):
        params.update({"n": "two"})


def test_setting_a_value_does_not_change_a_shared_param() -> None:
    dag = ParamsDict({"n": Param(1, type="integer")})
    task = ParamsDict(dag)
    task["n"] = 2
    assert task["n"] == 2 and dag["n"] == 1


def test_deepcopy_is_independent() -> None:
    params = ParamsDict({"cfg": Param({"a": [1]}, type="object")})
    clone = copy.deepcopy(params)
    clone["cfg"]["a"].append(2)
    clone["cfg"] = {"a": [9]}
    assert params["cfg"] == {"a": [1]}
    assert clone == ParamsDict({"cfg": Param({"a": [9]}, type="object")})


def test_dump_and_deserialize_round_trip() -> None:
    params = dag_params()
    data = params.dump()
    assert data["n"] == {
        "default": 5,
        "description": "how many",
        "schema": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    assert "default" not in data["name"]  # no default is distinct from a None default
    back = ParamsDict.deserialize(data)
    assert back == params
    assert back.get_param("name").value is NOTSET
    with pytest.raises(ParamValidationError, match="param 'n'"):
        back["n"] = -1


def test_param_deserialize_reads_airflow_value_key() -> None:
    param = Param.deserialize({"value": 3, "description": None, "schema": {"type": "integer"}})
    assert param.resolve() == 3


def test_equality_with_plain_dicts_uses_values() -> None:
    assert ParamsDict({"a": Param(1), "b": "x"}) == {"a": 1, "b": "x"}


def test_param_names_must_be_strings() -> None:
    with pytest.raises(ParamValidationError, match="param names must be strings"):
        ParamsDict({1: "x"})  # type: ignore[dict-item]
