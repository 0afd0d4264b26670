"""Training loops report each step here; whoever runs them decides what a step means (a progress bar, a log
line, or giving up a run whose lease was lost). The reporter is context-local, so library code takes no callback
parameters and reports to nobody unless asked.

Library code calls `report(stage, done, total, loss)` after each step of a long loop and `announce(text)` when
a stage without steps starts (reading data, building series). Commands wrap their work in
`reporting(ProgressReporter(console))`, which draws a rich progress bar on a terminal and otherwise prints one
line per stage every `every` seconds, so a long fit never looks hung in a log file either. `counted(n, noun)`
words a count for any message ('1 customer', '2 customers'), `agreeing(n, singular, plural)` the verb after it
('has', 'have').
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from typing import Callable


class Reporter:
    """Receives (stage, steps done, steps in all, loss) after every step and the start of stages without
    steps; does nothing by default."""

    def step(self, stage: str, done: int, total: int, loss: float | None = None) -> None:
        pass

    def announce(self, text: str) -> None:
        pass


_current: contextvars.ContextVar[Reporter] = contextvars.ContextVar("fthc_reporter", default=Reporter())


def current() -> Reporter:
    return _current.get()


def report(stage: str, done: int, total: int, loss: float | None = None) -> None:
    _current.get().step(stage, done, total, loss)


def announce(text: str) -> None:
    _current.get().announce(text)


@contextmanager
def reporting(reporter: Reporter):
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def counted(n: float, noun: str, plural: str | None = None) -> str:
    """'1 customer', '4,500 customers': a count and its noun in the number the count needs, so that a message
    never reads '1 customers' (`plural` where adding an s is wrong: 'history', 'histories')."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def agreeing(n: float, singular: str, plural: str) -> str:
    """The words after a count in the number the count needs ('1 customer has', '2 customers have'), decided as
    `counted` decides its noun, so that the two always agree."""
    return singular if int(n) == 1 else plural


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class ProgressReporter(Reporter):
    """Stage, step, loss and ETA of every loop: a rich progress bar on a terminal (one line per stage run),
    elsewhere a plain line at most every `every` seconds (and at the end of a stage that took longer).

    `progress` may be a rich Progress that the command already shows (the grid's bar of runs), so a run's
    batches appear under it."""

    def __init__(self, console, every: float = 30.0, progress=None, clock: Callable[[], float] = time.monotonic):
        self.console = console
        self.every = every
        self.clock = clock
        self._progress = progress
        self._own_progress = None
        self._tasks: dict[str, int] = {}  # stage -> its rich task (one bar per stage)
        self._started: dict[str, tuple[float, int]] = {}  # stage -> (time, done) at this pass's first step
        self._last_done: dict[str, int] = {}
        self._t0 = clock()
        self._last_line = self._t0  # the first line comes after `every` seconds: quick stages print nothing

    @property
    def live(self) -> bool:
        return bool(getattr(self.console, "is_terminal", False))

    def __enter__(self) -> "ProgressReporter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._own_progress is not None:
            self._own_progress.stop()
            self._own_progress = None

    def _bar(self):
        if self._progress is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._own_progress = self._progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
            self._progress.start()
        return self._progress

    def announce(self, text: str) -> None:
        if self.live and self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(f"[{_duration(self.clock() - self._t0)}] {text}", markup=False, highlight=False)

    def step(self, stage: str, done: int, total: int, loss: float | None = None) -> None:
        now = self.clock()
        start = self._started.get(stage)
        new_pass = start is None or done <= self._last_done[stage]  # the next seed, restart or latent pass
        if new_pass:
            start = self._started[stage] = (now, done)  # the rate is measured from the first step on
        self._last_done[stage] = done
        loss_text = f"loss {loss:.4g}" if loss is not None else ""
        if self.live:
            bar = self._bar()
            if stage not in self._tasks:
                self._tasks[stage] = bar.add_task(stage, total=total, loss=loss_text)
            elif new_pass:
                bar.reset(self._tasks[stage], total=total)
            bar.update(self._tasks[stage], completed=done, total=total, loss=loss_text)
            return
        if now - self._last_line >= self.every or (done == total and now - start[0] >= self.every):
            self._last_line = now
            elapsed, steps = now - start[0], done - start[1]
            eta = f", ETA {_duration(elapsed / steps * (total - done))}" if steps > 0 and done < total else ""
            self.console.print(f"[{_duration(now - self._t0)}] {stage}: {done:,}/{total:,}"
                               f"{' ' + loss_text if loss_text else ''}{eta}", markup=False, highlight=False)
