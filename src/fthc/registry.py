"""Components chosen by name from registries that are data: name -> constructor + capability flags.

Like timm's model registry and aeon's distance registry: a typo lists the valid names instead of returning
None, and which combinations are valid is read from the flags, not from if/elif chains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from .data.errors import FthcError

T = TypeVar("T")


class UnknownComponentError(FthcError, KeyError):
    """A component name that no registry holds."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class IncompatibleConfigError(FthcError, ValueError):
    """A combination of components that cannot work together, rejected before any training."""


@dataclass(frozen=True)
class Component(Generic[T]):
    name: str
    build: Callable[..., T] | None
    flags: dict[str, Any] = field(default_factory=dict)
    doc: str = ""

    def flag(self, key: str, default: Any = None) -> Any:
        return self.flags.get(key, default)


class Registry(Generic[T]):
    """A named table of components of one family (encoders, pretext losses, distances, ...)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._items: dict[str, Component[T]] = {}

    def register(self, name: str, build: Callable[..., T] | None = None, *, doc: str = "", **flags: Any):
        """Register `build` under `name`; without `build`, return a decorator that does."""
        def add(fn: Callable[..., T]) -> Callable[..., T]:
            if name in self._items:
                raise ValueError(f"{self.family} {name!r} registered twice")
            summary = doc or (fn.__doc__ or "").strip().split("\n")[0]
            self._items[name] = Component(name, fn, dict(flags), summary)
            return fn

        return add if build is None else add(build)

    def get(self, name: str) -> Component[T]:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponentError(
                f"unknown {self.family} {name!r}; valid: {', '.join(sorted(self._items))}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items.values())
