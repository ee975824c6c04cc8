"""A query parameter's text as the value of a typed property, for both stores' providers:
integers within 64 bits, finite numbers, booleans, and one of the listed values of a property
with an enumeration (its queryable's `enum`); anything else a 400 (never an overflow in the
database driver)."""
from __future__ import annotations

import math
from typing import Any

from pygeoapi.provider.base import ProviderInvalidQueryError

INT64 = 2 ** 63 - 1


def typed(name: str, spec: dict, value: Any, bool_as_int: bool = False) -> Any:
    result = _typed(name, spec, value, bool_as_int)
    allowed = spec.get("values")
    if allowed and result not in allowed and str(result) not in map(str, allowed):
        raise ProviderInvalidQueryError(
            user_msg=f"Invalid value for property {name}: {str(value)[:60]!r}")
    return result


def _typed(name: str, spec: dict, value: Any, bool_as_int: bool) -> Any:
    try:
        if spec["type"] == "integer":
            number = int(value)
            if not -INT64 <= number <= INT64:
                raise ValueError(value)
            return number
        if spec["type"] == "number":
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if spec["type"] == "boolean":
            low = str(value).lower()
            if low not in ("true", "false", "1", "0"):
                raise ValueError(value)
            truth = low in ("true", "1")
            return int(truth) if bool_as_int else truth
    except (ValueError, OverflowError) as err:
        raise ProviderInvalidQueryError(
            user_msg=f"Invalid value for property {name}: {str(value)[:60]!r}") from err
    return value
