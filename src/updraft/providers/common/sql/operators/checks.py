"""Data-quality check operators, with Airflow's semantics.

==============================  ===================================================================
``SQLCheckOperator``            every value of the query's first row is truthy
``SQLValueCheckOperator``       every value of the first row equals ``pass_value`` (± ``tolerance``)
``SQLIntervalCheckOperator``    metrics of ``ds`` stay within a ratio of those ``days_back`` before
``SQLThresholdCheckOperator``   one value lies between a minimum and a maximum (numbers or SQL)
``SQLColumnCheckOperator``      per-column null/distinct/unique/min/max checks against bounds
``SQLTableCheckOperator``       named boolean SQL expressions hold on a table
==============================  ===================================================================

A failure raises :class:`SQLCheckFailed` whose message lists EACH failed check with the value
measured and the value expected. Column and table checks send one query per partition clause
rather than one per check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, SupportsAbs

from updraft.providers.common.sql.hooks.handlers import fetch_one_handler
from updraft.providers.common.sql.operators.base import BaseSQLOperator

__all__ = [
    "SQLCheckOperator",
    "SQLColumnCheckOperator",
    "SQLIntervalCheckOperator",
    "SQLTableCheckOperator",
    "SQLThresholdCheckOperator",
    "SQLValueCheckOperator",
]


def _as_float(value: Any) -> float | Any:
    """``value`` as a float when it reads as one, else unchanged (Airflow's rule for pass values)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _parse_boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("y", "yes", "t", "true", "on", "1"):
        return True
    if lowered in ("n", "no", "f", "false", "off", "0"):
        return False
    raise ValueError(f"{value!r} is not a boolean-like value")


def _named_values(row: Any, description: Sequence[Sequence[Any]] | None) -> list[tuple[str, Any]]:
    """(column name, value) for each value of a row (a tuple, or a dict from a dict cursor)."""
    if isinstance(row, Mapping):
        return [(str(name), value) for name, value in row.items()]
    names = [str(column[0]) for column in description] if description else []
    return [(names[i] if i < len(names) else f"#{i + 1}", value) for i, value in enumerate(row)]


def _first_value(row: Any) -> Any:
    if isinstance(row, Mapping):
        return next(iter(row.values()))
    return row[0]


def _where(*clauses: str | None) -> str:
    present = [clause for clause in clauses if clause]
    return f" WHERE {' AND '.join(present)}" if present else ""


def _validated_partition_clause(clause: str | None, owner: str) -> str | None:
    if clause is not None and ";" in clause:
        raise ValueError(f"{owner}: partition_clause must not contain ';' (got {clause!r})")
    return clause


class SQLCheckOperator(BaseSQLOperator):
    """Fail unless every value of the first row of ``sql`` is truthy (not 0, '', NULL or false).

    A query that returns no rows fails too. E.g. ``SELECT COUNT(*) FROM t`` fails on an empty table.
    """

    template_fields: ClassVar[Sequence[str]] = ("sql", *BaseSQLOperator.template_fields)
    template_ext: ClassVar[Sequence[str]] = (".hql", ".sql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}
    ui_color = "#fff7e6"

    def __init__(
        self,
        *,
        sql: str,
        conn_id: str | None = None,
        database: str | None = None,
        parameters: Iterable[Any] | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.parameters = parameters

    def execute(self, context: Any) -> None:
        self.log.info("Executing SQL check: %s", self.sql)
        hook = self.get_db_hook()
        record = hook.get_first(self.sql, self.parameters)
        self.log.info("Record: %s", record)
        if not record:
            self._fail(["the query returned no rows, expected one row of true values"], 1, self.sql)
        values = _named_values(record, hook.last_description)
        failures = [
            f"column {name!r}: got {value!r}, expected a true value (not 0, '', NULL or false)"
            for name, value in values
            if not value
        ]
        if failures:
            self._fail(failures, len(values), self.sql)
        self.log.info("Success.")


class SQLValueCheckOperator(BaseSQLOperator):
    """Fail unless every value of the first row of ``sql`` equals ``pass_value``.

    A numeric ``pass_value`` compares numerically, within ``tolerance`` (a fraction: 0.1 is ±10%)
    when given; otherwise the values' text must equal it.
    """

    template_fields: ClassVar[Sequence[str]] = ("sql", "pass_value", *BaseSQLOperator.template_fields)
    template_ext: ClassVar[Sequence[str]] = (".hql", ".sql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}
    ui_color = "#fff7e6"

    def __init__(
        self,
        *,
        sql: str,
        pass_value: Any,
        tolerance: Any = None,
        conn_id: str | None = None,
        database: str | None = None,
        parameters: Iterable[Any] | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.pass_value = str(pass_value)
        tol = _as_float(tolerance)
        self.tol: float | None = tol if isinstance(tol, float) else None
        self.has_tolerance = self.tol is not None
        self.parameters = parameters

    def execute(self, context: Any) -> None:
        self.log.info("Executing SQL check: %s", self.sql)
        hook = self.get_db_hook()
        record = hook.get_first(self.sql, self.parameters)
        self.check_value(record, hook.last_description)

    def _expectation(self, expected: float) -> tuple[float, float, str]:
        if self.tol is None:
            return expected, expected, f"{expected:g}"
        low, high = sorted((expected * (1 - self.tol), expected * (1 + self.tol)))
        return low, high, f"{expected:g} ± {self.tol:.1%} ({low:g} to {high:g})"

    def check_value(self, record: Any, description: Sequence[Sequence[Any]] | None = None) -> None:
        if not record:
            self._fail([f"the query returned no rows, expected {self.pass_value!r}"], 1, self.sql)
        values = _named_values(record, description)
        expected = _as_float(self.pass_value)
        failures = []
        if isinstance(expected, float):
            low, high, wanted = self._expectation(expected)
            for name, value in values:
                number = _as_float(value)
                if not isinstance(number, float):
                    failures.append(
                        f"column {name!r}: got {value!r}, which is not a number; expected {wanted}"
                    )
                elif not low <= number <= high:
                    failures.append(f"column {name!r}: got {number:g}, expected {wanted}")
        else:
            failures = [
                f"column {name!r}: got {value!r}, expected {expected!r}"
                for name, value in values
                if str(value) != expected
            ]
        if failures:
            self._fail(failures, len(values), self.sql)
        self.log.info("Success.")


class SQLIntervalCheckOperator(BaseSQLOperator):
    """Compare metrics (SQL expressions) of the ``ds`` day with those of ``days_back`` days before.

    Each metric's ratio of current to reference must stay below its threshold in
    ``metrics_thresholds``. ``ratio_formula`` is ``max_over_min`` (max(cur, ref) / min(cur, ref))
    or ``relative_diff`` (abs(cur - ref) / ref). A zero (or NULL) value passes when ``ignore_zero``.
    """

    template_fields: ClassVar[Sequence[str]] = ("sql1", "sql2", *BaseSQLOperator.template_fields)
    template_ext: ClassVar[Sequence[str]] = (".hql", ".sql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql1": "sql", "sql2": "sql"}
    ui_color = "#fff7e6"

    ratio_formulas: ClassVar[dict[str, Callable[[float, float], float]]] = {
        "max_over_min": lambda cur, ref: max(cur, ref) / min(cur, ref),
        "relative_diff": lambda cur, ref: abs(cur - ref) / ref,
    }

    def __init__(
        self,
        *,
        table: str,
        metrics_thresholds: dict[str, float],
        date_filter_column: str | None = "ds",
        days_back: SupportsAbs[int] = -7,
        ratio_formula: str | None = "max_over_min",
        ignore_zero: bool = True,
        conn_id: str | None = None,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        if ratio_formula not in self.ratio_formulas:
            raise ValueError(
                f"{type(self).__name__} {self.task_id!r}: unknown ratio_formula {ratio_formula!r}; "
                f"use one of {', '.join(self.ratio_formulas)}"
            )
        if not metrics_thresholds:
            raise ValueError(f"{type(self).__name__} {self.task_id!r}: metrics_thresholds is empty")
        self.ratio_formula = ratio_formula
        self.ignore_zero = ignore_zero
        self.table = table
        self.metrics_thresholds = metrics_thresholds
        self.metrics_sorted = sorted(metrics_thresholds)
        self.date_filter_column = date_filter_column
        self.days_back = -abs(int(days_back))  # type: ignore[call-overload]
        select = f"SELECT {', '.join(self.metrics_sorted)} FROM {table} WHERE {date_filter_column}="
        self.sql1 = select + "'{{ ds }}'"
        self.sql2 = select + f"'{{{{ macros.ds_add(ds, {self.days_back}) }}}}'"

    def execute(self, context: Any) -> None:
        hook = self.get_db_hook()
        self.log.info("Using ratio formula: %s", self.ratio_formula)
        reference_row, current_row = hook.run([self.sql2, self.sql1], handler=fetch_one_handler)
        for row, sql in ((reference_row, self.sql2), (current_row, self.sql1)):
            if not row:
                self._fail(["the query returned no rows, expected one row of metrics"], 1, sql)
        current = dict(zip(self.metrics_sorted, _values(current_row)))
        reference = dict(zip(self.metrics_sorted, _values(reference_row)))
        formula = self.ratio_formulas[str(self.ratio_formula)]
        back = f"{-self.days_back} days back"
        failures = []
        for metric in self.metrics_sorted:
            cur, ref, threshold = current[metric], reference[metric], self.metrics_thresholds[metric]
            if cur in (0, None) or ref in (0, None):
                self.log.info("Metric %s: current %s, reference %s: a zero value", metric, cur, ref)
                if not self.ignore_zero:
                    failures.append(
                        f"metric {metric!r}: current {cur!r}, reference {ref!r} ({back}); a zero or NULL "
                        f"value fails because ignore_zero=False (expected a {self.ratio_formula} ratio "
                        f"below {threshold})"
                    )
                continue
            ratio = formula(float(cur), float(ref))
            self.log.info(
                "Metric %s: current %s, reference %s, ratio %s, threshold %s",
                metric,
                cur,
                ref,
                ratio,
                threshold,
            )
            if not ratio < threshold:
                failures.append(
                    f"metric {metric!r}: {self.ratio_formula} ratio {ratio:.4g} (current {cur}, reference "
                    f"{ref} from {back}), expected below {threshold}"
                )
        if failures:
            self._fail(failures, len(self.metrics_sorted), f"{self.sql1};\n{self.sql2}")
        self.log.info("All tests have passed")


def _values(row: Any) -> list[Any]:
    return list(row.values()) if isinstance(row, Mapping) else list(row)


class SQLThresholdCheckOperator(BaseSQLOperator):
    """Fail unless the first value of ``sql`` lies between ``min_threshold`` and ``max_threshold``.

    Each threshold is a number or a SQL query whose first value is the bound.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "sql", "min_threshold", "max_threshold", *BaseSQLOperator.template_fields,
    )  # fmt: skip
    template_ext: ClassVar[Sequence[str]] = (".hql", ".sql")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}

    def __init__(
        self,
        *,
        sql: str,
        min_threshold: Any,
        max_threshold: Any,
        conn_id: str | None = None,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.min_threshold = min_threshold
        self.max_threshold = max_threshold

    def _bound(self, threshold: Any, name: str) -> tuple[Any, str]:
        value = _as_float(threshold)
        if isinstance(value, float):
            return value, f"{value:g}"
        row = self.get_db_hook().get_first(str(threshold))
        if not row:
            self._fail([f"the {name} query returned no rows, expected one number"], 1, str(threshold))
        bound = _first_value(row)
        return bound, f"{bound} (from {name}: {str(threshold).strip()})"

    def execute(self, context: Any) -> None:
        row = self.get_db_hook().get_first(self.sql)
        if not row:
            self._fail(["the query returned no rows, expected one number"], 1, self.sql)
        result = _first_value(row)
        lower, lower_text = self._bound(self.min_threshold, "min_threshold")
        upper, upper_text = self._bound(self.max_threshold, "max_threshold")
        try:
            within = result is not None and lower <= result <= upper
        except TypeError:
            within = False
        self.push(
            {
                "result": result,
                "task_id": self.task_id,
                "min_threshold": lower,
                "max_threshold": upper,
                "within_threshold": within,
            }
        )
        if not within:
            self._fail([f"got {result!r}, expected between {lower_text} and {upper_text}"], 1, self.sql)
        self.log.info("Test %s Successful.", self.task_id)

    def push(self, meta_data: dict[str, Any]) -> None:
        """Report the check's outcome; logs it (override to send it elsewhere, as in Airflow)."""
        self.log.info("Threshold check %s: %s", self.dag_id, meta_data)


_CONDITIONS = (
    ("greater_than", ">"),
    ("geq_to", ">="),
    ("less_than", "<"),
    ("leq_to", "<="),
    ("equal_to", "=="),
)
_LOWER = ("greater_than", "geq_to")


class SQLColumnCheckOperator(BaseSQLOperator):
    """Check columns of ``table`` against bounds: ``column_mapping`` maps column -> check -> conditions.

    Checks: ``null_check`` (number of NULLs), ``distinct_check`` (number of distinct values),
    ``unique_check`` (values minus distinct values: 0 when unique), ``min``, ``max``. Conditions:
    ``equal_to``, or bounds from ``greater_than``/``geq_to`` and ``less_than``/``leq_to``;
    ``tolerance`` widens them by a fraction; a check's own ``partition_clause`` is ANDed with
    the operator's. With ``accept_none`` a NULL result counts as 0.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "table", "partition_clause", "column_mapping", *BaseSQLOperator.template_fields,
    )  # fmt: skip
    template_fields_renderers: ClassVar[dict[str, str]] = {"column_mapping": "json"}

    column_checks: ClassVar[dict[str, str]] = {
        "null_check": "SUM(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END)",
        "distinct_check": "COUNT(DISTINCT({column}))",
        "unique_check": "COUNT({column}) - COUNT(DISTINCT({column}))",
        "min": "MIN({column})",
        "max": "MAX({column})",
    }

    def __init__(
        self,
        *,
        table: str,
        column_mapping: dict[str, dict[str, Any]],
        partition_clause: str | None = None,
        conn_id: str | None = None,
        database: str | None = None,
        accept_none: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        owner = f"{type(self).__name__} {self.task_id!r}"
        if not column_mapping:
            raise ValueError(f"{owner}: column_mapping is empty")
        for column, checks in column_mapping.items():
            for check, conditions in checks.items():
                self._validate(f"{owner}, column {column!r}, check {check!r}", check, conditions)
        self.table = table
        self.column_mapping = column_mapping
        self.partition_clause = _validated_partition_clause(partition_clause, owner)
        self.accept_none = accept_none

    def _validate(self, where: str, check: str, conditions: Any) -> None:
        if check not in self.column_checks:
            raise ValueError(f"{where}: unknown check; use one of {', '.join(self.column_checks)}")
        if not isinstance(conditions, Mapping):
            raise ValueError(f"{where}: conditions must be a dict, e.g. {{'equal_to': 0}}")
        given = {name for name, _ in _CONDITIONS if name in conditions}
        if not given:
            raise ValueError(
                f"{where}: give one or more of less_than, leq_to, greater_than, geq_to, equal_to"
            )
        if "equal_to" in given and len(given) > 1:
            raise ValueError(f"{where}: equal_to cannot be combined with greater/less-than conditions")
        for pair in (("greater_than", "geq_to"), ("less_than", "leq_to")):
            if set(pair) <= given:
                raise ValueError(f"{where}: give only one of {pair[0]} or {pair[1]}")
        lower = next((conditions[name] for name in _LOWER if name in conditions), None)
        upper_name = next((name for name in ("less_than", "leq_to") if name in conditions), None)
        if lower is not None and upper_name is not None:
            upper = conditions[upper_name]
            inclusive = "geq_to" in conditions and upper_name == "leq_to"
            if lower > upper or (lower == upper and not inclusive):
                raise ValueError(f"{where}: the lower bound {lower} must be below the upper bound {upper}")
        _validated_partition_clause(conditions.get("partition_clause"), where)

    def _queries(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """One query per distinct WHERE clause, each computing all the checks that share it."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for column, checks in self.column_mapping.items():
            for check, conditions in checks.items():
                where = _where(self.partition_clause, conditions.get("partition_clause"))
                groups.setdefault(where, []).append((column, check))
        queries = []
        for where, pairs in groups.items():
            select = ", ".join(
                f"{self.column_checks[check].format(column=column)} AS check_{i}"
                for i, (column, check) in enumerate(pairs)
            )
            queries.append((f"SELECT {select} FROM {self.table}{where}", pairs))
        return queries

    @property
    def sql(self) -> str:
        return ";\n".join(query for query, _ in self._queries())

    @staticmethod
    def _expectation(conditions: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], str]:
        """The (operator, bound) pairs to meet, tolerance applied, and how to describe them."""
        tolerance = conditions.get("tolerance")
        if "equal_to" in conditions:
            value = conditions["equal_to"]
            bounds = [("==", value)]
            if tolerance is not None:
                bounds = [(">=", value * (1 - tolerance)), ("<=", value * (1 + tolerance))]
        else:
            bounds = []
            for name, symbol in _CONDITIONS[:4]:
                if name in conditions:
                    value = conditions[name]
                    if tolerance is not None:
                        value = value * (1 - tolerance if name in _LOWER else 1 + tolerance)
                    bounds.append((symbol, value))
        text = " and ".join(f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value!r}"
                            for symbol, value in bounds)  # fmt: skip
        if tolerance is not None:
            given = ", ".join(f"{name} {conditions[name]!r}" for name, _ in _CONDITIONS if name in conditions)
            text += f" ({given} with tolerance {tolerance:.0%})"
        return bounds, text

    def _matches(self, result: Any, bounds: list[tuple[str, Any]]) -> bool:
        compare = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
                   "<=": lambda a, b: a <= b, "==": lambda a, b: a == b}  # fmt: skip
        try:
            return all(compare[symbol](result, bound) for symbol, bound in bounds)
        except TypeError:  # e.g. a text column's MIN against a number
            return False

    def execute(self, context: Any) -> None:
        hook = self.get_db_hook()
        queries = self._queries()
        rows = hook.run([query for query, _ in queries], handler=fetch_one_handler)
        failures = []
        total = 0
        for (_, pairs), row in zip(queries, rows):
            values = _values(row) if row else [None] * len(pairs)
            for (column, check), result in zip(pairs, values):
                total += 1
                measured = 0 if result is None and self.accept_none else result
                bounds, wanted = self._expectation(self.column_mapping[column][check])
                if measured is None or not self._matches(measured, bounds):
                    failures.append(f"column {column!r} {check}: got {measured!r}, expected {wanted}")
                else:
                    self.log.info("column %r %s: %r, as expected (%s)", column, check, measured, wanted)
        if failures:
            self._fail(failures, total, self.sql)
        self.log.info("All tests have passed")


class SQLTableCheckOperator(BaseSQLOperator):
    """Check boolean SQL expressions on ``table``: ``checks`` maps a name to ``{"check_statement": ...}``.

    A statement may be per row (``price >= 0``: every row must pass) or an aggregate
    (``COUNT(*) > 1000``). A check's own ``partition_clause`` is ANDed with the operator's. A check
    over no rows at all fails: there was nothing to check.
    """

    template_fields: ClassVar[Sequence[str]] = (
        "table", "partition_clause", "checks", *BaseSQLOperator.template_fields,
    )  # fmt: skip
    template_fields_renderers: ClassVar[dict[str, str]] = {"checks": "json"}

    def __init__(
        self,
        *,
        table: str,
        checks: dict[str, dict[str, Any]],
        partition_clause: str | None = None,
        conn_id: str | None = None,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        owner = f"{type(self).__name__} {self.task_id!r}"
        if not checks:
            raise ValueError(f"{owner}: checks is empty")
        for name, check in checks.items():
            if not isinstance(check, Mapping) or not check.get("check_statement"):
                raise ValueError(f"{owner}, check {name!r}: give a dict with a 'check_statement'")
            _validated_partition_clause(check.get("partition_clause"), f"{owner}, check {name!r}")
        self.table = table
        self.checks = checks
        self.partition_clause = _validated_partition_clause(partition_clause, owner)

    @property
    def sql(self) -> str:
        parts = []
        for index, check in enumerate(self.checks.values()):
            where = _where(self.partition_clause, check.get("partition_clause"))
            parts.append(
                f"SELECT {index} AS check_index, MIN(ok) AS check_result, COUNT(*) AS checked_rows, "
                f"SUM(1 - ok) AS failed_rows FROM (SELECT CASE WHEN {check['check_statement']} THEN 1 ELSE 0 END "
                f"AS ok FROM {self.table}{where}) AS check_{index}"
            )
        return "\nUNION ALL\n".join(parts)

    def execute(self, context: Any) -> None:
        sql = self.sql
        records = self.get_db_hook().get_records(sql)
        outcomes = {int(_values(row)[0]): _values(row)[1:] for row in records or []}
        failures = []
        for index, (name, check) in enumerate(self.checks.items()):
            statement = check["check_statement"]
            result, checked, failed = outcomes.get(index, (None, 0, None))
            if not checked or result is None:
                failures.append(f"check {name!r}: no rows to check ({statement}), expected at least one row")
            elif not _parse_boolean(str(result)):
                where = f" for {failed} of {checked} rows" if checked > 1 else ""
                failures.append(f"check {name!r}: got false{where}, expected ({statement}) to be true")
            else:
                self.log.info("check %r passed: %s", name, statement)
        if failures:
            self._fail(failures, len(self.checks), sql)
        self.log.info("All tests have passed")
