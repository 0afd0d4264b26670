"""Training loops report each step here; whoever runs them decides what a step means (a progress line, or
giving up a run whose lease was lost). The reporter is context-local, so library code takes no callback
parameters and reports to nobody unless asked."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager


class Reporter:
    """Receives (stage, steps done, steps in all, loss) after every training step; does nothing by default."""

    def step(self, stage: str, done: int, total: int, loss: float | None = None) -> None:
        pass


_current: contextvars.ContextVar[Reporter] = contextvars.ContextVar("fthc_reporter", default=Reporter())


def report(stage: str, done: int, total: int, loss: float | None = None) -> None:
    _current.get().step(stage, done, total, loss)


@contextmanager
def reporting(reporter: Reporter):
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)
