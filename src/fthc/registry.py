"""Components chosen by name from registries that are data: name -> constructor + capability flags.

Like timm's model registry and aeon's distance registry: a typo lists the valid names instead of returning
None, and which combinations are valid is read from the flags, not from if/elif chains. Each registry
declares the flags its family has, with their defaults, so a misspelt flag is an error in `register` and in
`flag`, never a silent default. `create(name, **params)` is the one factory of a family.

A family whose members live in heavy modules (PyTorch) names them in `lazy`: they are imported the first time a
name is not found or the whole family is listed, so that choosing a light member never loads the heavy ones.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from .errors import IncompatibleConfigError, UnknownComponentError

__all__ = ["Component", "IncompatibleConfigError", "Registry", "UnknownComponentError"]

T = TypeVar("T")


@dataclass(frozen=True)
class Component(Generic[T]):
    name: str
    build: Callable[..., T]
    flags: dict[str, Any] = field(default_factory=dict)
    doc: str = ""

    def flag(self, key: str) -> Any:
        if key not in self.flags:
            raise KeyError(f"{self.name!r} has no capability flag {key!r}; flags: {sorted(self.flags)}")
        return self.flags[key]


class Registry(Generic[T]):
    """A named table of components of one family (encoders, pretext losses, distances, heads, ...)."""

    def __init__(self, family: str, flags: dict[str, Any] | None = None, lazy: tuple[str, ...] = ()) -> None:
        self.family = family
        self.flag_defaults = dict(flags or {})
        self._items: dict[str, Component[T]] = {}
        self._lazy = list(lazy)

    def _load_lazy(self, until: str | None = None) -> None:
        """Import the lazy modules in order: all of them, or until one has registered `until`."""
        while self._lazy and (until is None or until not in self._items):
            importlib.import_module(self._lazy.pop(0))

    def register(self, name: str, build: Callable[..., T] | None = None, *, doc: str = "", **flags: Any):
        """Register `build` under `name`; without `build`, return a decorator that does."""
        unknown = set(flags) - set(self.flag_defaults)
        if unknown:
            raise TypeError(f"{self.family} {name!r}: unknown capability flags {sorted(unknown)}; "
                            f"this family has {sorted(self.flag_defaults)}")

        def add(fn: Callable[..., T]) -> Callable[..., T]:
            if name in self._items:
                raise ValueError(f"{self.family} {name!r} registered twice")
            summary = doc or (fn.__doc__ or "").strip().split("\n")[0]
            self._items[name] = Component(name, fn, {**self.flag_defaults, **flags}, summary)
            return fn

        return add if build is None else add(build)

    def get(self, name: str) -> Component[T]:
        if self._lazy and (not isinstance(name, str) or name not in self._items):
            self._load_lazy(name if isinstance(name, str) else None)
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise UnknownComponentError(
                f"unknown {self.family} {name!r}; valid: {', '.join(sorted(self._items))}") from None

    def create(self, name: str, *args: Any, **params: Any) -> T:
        """The family's factory: the component registered under `name`, built with `params`."""
        return self.get(name).build(*args, **params)

    def names(self) -> list[str]:
        self._load_lazy()
        return list(self._items)

    def name_of(self, obj) -> str | None:
        """The name `obj`'s class is registered under (the loaded members first: a light member never loads the
        heavy modules), or None."""
        for loaded in (True, False):
            items = list(self._items.values()) if loaded else list(self)
            for component in items:
                if component.build is type(obj):
                    return component.name
        return None

    def registered(self, name: str) -> bool:
        """Whether `name` is registered already, without importing the lazy modules."""
        return name in self._items

    def __contains__(self, name: str) -> bool:
        if name not in self._items:
            self._load_lazy(name)
        return name in self._items

    def __iter__(self):
        self._load_lazy()
        return iter(list(self._items.values()))
