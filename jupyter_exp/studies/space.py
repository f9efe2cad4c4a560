"""Search spaces in the ``-S`` grammar: Hydra's sweeps as Optuna distributions.

``interval(a, b)`` is a float range (``int(interval(...))`` or ``tag(int, ...)`` an
integer one, ``tag(log, ...)`` sampled on a log scale), ``choice(a, b)`` and ``a,b`` are
categorical, ``range(start, stop[, step])`` is an integer (or, with float steps,
categorical) grid. Every other override is fixed: it goes unchanged into each trial.
A dimension keeps its override's left side (``+key``, ``++key``) and its params file,
so a sampled value becomes an override of the same form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import option
from ..overrides import group_by_file, literal
from ..params import DEFAULT_PARAMS_FILE
from .exceptions import SearchSpaceError

KNOWN_TAGS = {"log", "int"}


@dataclass(frozen=True)
class Dimension:
    """One searched param: its name in the study, where it goes, how it is sampled."""

    name: str  # the study's param name: ``key`` or ``file:key``
    file: str
    left: str  # the override's left side, prefixes kept (``+train.lr``)
    kind: str  # float | int | categorical
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: int | None = None
    choices: tuple[Any, ...] = ()

    def distribution(self) -> Any:
        """The Optuna distribution of this dimension."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "float":
            return FloatDistribution(float(self.low or 0), float(self.high or 0), log=self.log)
        if self.kind == "int":
            return IntDistribution(int(self.low or 0), int(self.high or 0), log=self.log, step=self.step or 1)
        return CategoricalDistribution(list(self.choices))

    def grid(self) -> list[Any]:
        """Every value, for the grid sampler (a continuous interval has none)."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int" and not self.log:
            return list(range(int(self.low or 0), int(self.high or 0) + 1, self.step or 1))
        raise SearchSpaceError(
            f"The grid sampler cannot sample '{self.name}' from an interval; use choice() or range() for it, "
            f"or another {option('sampler')}."
        )

    def override(self, value: Any) -> str:
        """The ``-S`` override that sets this dimension to ``value``."""
        text = f"{self.left}={literal(value)}"
        return text if self.file == DEFAULT_PARAMS_FILE else f"{self.file}:{text}"


@dataclass(frozen=True)
class SearchSpace:
    """The searched dimensions and the overrides every trial gets as they are."""

    dimensions: tuple[Dimension, ...]
    fixed: tuple[str, ...]

    def overrides(self, values: dict[str, Any]) -> list[str]:
        """A trial's ``-S`` overrides: the fixed ones, then each sampled value."""
        return [*self.fixed, *(d.override(values[d.name]) for d in self.dimensions)]


def parse_space(set_params: list[str]) -> SearchSpace:
    """Split ``-S`` overrides into searched dimensions and fixed overrides.

    Raises :class:`SearchSpaceError` for a sweep Optuna cannot sample and when nothing
    is searched; :class:`~jupyter_exp.errors.OverrideSyntaxError` for bad syntax.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    dimensions: list[Dimension] = []
    fixed: list[str] = []
    for file, overrides in group_by_file(set_params).items():
        for text in overrides:
            try:
                (parsed,) = parser.parse_overrides([text])
            except OverrideParseException as exc:
                first = str(exc).strip().splitlines()[0]
                raise SearchSpaceError(f"Bad override '{text}': {first}; use Hydra's grammar.") from None
            if not parsed.is_sweep_override():
                fixed.append(text if file == DEFAULT_PARAMS_FILE else f"{file}:{text}")
                continue
            key = parsed.get_key_element()
            name = key.lstrip("+") if file == DEFAULT_PARAMS_FILE else f"{file}:{key.lstrip('+')}"
            dimensions.append(_dimension(name, file, text.split("=", 1)[0], parsed.value(), text))
    names = [d.name for d in dimensions]
    if not dimensions:
        raise SearchSpaceError(
            f"Nothing to search; give {option('set_params', 'KEY=interval(LOW, HIGH)')}, choice(...) or range(...)."
        )
    if len(set(names)) != len(names):
        raise SearchSpaceError(f"A param is searched twice ({', '.join(names)}); give each one once.")
    return SearchSpace(tuple(dimensions), tuple(fixed))


def _dimension(name: str, file: str, left: str, sweep: Any, text: str) -> Dimension:
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    tags = set(getattr(sweep, "tags", None) or ())
    unknown = tags - KNOWN_TAGS
    if unknown:
        raise SearchSpaceError(f"Unknown tag '{sorted(unknown)[0]}' in '{text}'; the search knows tag(log, ...) only.")
    log = "log" in tags
    if isinstance(sweep, IntervalSweep):
        low, high = sweep.start, sweep.end
        if not (isinstance(low, (int, float)) and isinstance(high, (int, float))) or not low < high:
            raise SearchSpaceError(f"Empty interval in '{text}'; give interval(LOW, HIGH) with LOW < HIGH.")
        if log and low <= 0:
            raise SearchSpaceError(f"A log scale needs a positive interval in '{text}'; make LOW greater than 0.")
        is_int = "int" in tags or (isinstance(low, int) and isinstance(high, int))
        if is_int:
            return Dimension(name, file, left, "int", math.ceil(low), math.floor(high), log=log)
        return Dimension(name, file, left, "float", float(low), float(high), log=log)
    if log:
        raise SearchSpaceError(f"tag(log, ...) applies to interval() only, in '{text}'.")
    if isinstance(sweep, RangeSweep):
        values = _range_values(sweep.start, sweep.stop, sweep.step, text)
        ints = all(isinstance(v, int) for v in values) and sweep.step > 0
        if ints and len(values) > 1:
            return Dimension(name, file, left, "int", values[0], values[-1], step=int(sweep.step))
        return Dimension(name, file, left, "categorical", choices=tuple(values))
    if isinstance(sweep, ChoiceSweep):
        values = list(sweep.list)
        if not values:
            raise SearchSpaceError(f"Empty choice in '{text}'; list the values.")
        for value in values:
            if not (value is None or isinstance(value, (bool, int, float, str))):
                raise SearchSpaceError(
                    f"The search cannot sample {literal(value)} in '{text}'; choose among numbers, strings, "
                    "booleans or null."
                )
        return Dimension(name, file, left, "categorical", choices=tuple(dict.fromkeys(values)))
    raise SearchSpaceError(f"The search cannot sample '{text}'; use interval(), choice() or range().")


def _range_values(start: Any, stop: Any, step: Any, text: str) -> list[Any]:
    if not step:
        raise SearchSpaceError(f"range() needs a step other than 0 in '{text}'.")
    count = math.ceil((stop - start) / step)
    if count <= 0:
        raise SearchSpaceError(f"Empty range in '{text}'; check its start, stop and step.")
    if all(isinstance(v, int) for v in (start, stop, step)):
        return list(range(start, stop, step))
    return [round(start + i * step, 12) for i in range(count)]
