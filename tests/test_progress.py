"""Progress on long commands: a line every `every` seconds off a terminal, a bar on one."""

import io

from rich.console import Console

from fthc.progress import ProgressReporter, announce, report, reporting


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_off_a_terminal_a_line_every_30_seconds_with_loss_and_eta():
    out, clock = io.StringIO(), Clock()
    console = Console(file=out, force_terminal=False, width=200)
    with ProgressReporter(console, every=30, clock=clock) as reporter, reporting(reporter):
        announce("reading data.csv")
        for done in range(1, 101):
            clock.now += 1.0
            report("pretext", done, 100, loss=1.0 / done)
    lines = out.getvalue().splitlines()
    assert lines[0] == "[0:00] reading data.csv"
    assert lines[1] == "[0:30] pretext: 30/100 loss 0.03333, ETA 1:10"  # rate measured from the first step
    assert lines[-1] == "[1:40] pretext: 100/100 loss 0.01"  # the end of a stage that took longer than 30 s
    assert len(lines) == 5  # steps 30, 60, 90 and 100


def test_quick_passes_print_nothing_and_a_new_pass_restarts_the_eta():
    out, clock = io.StringIO(), Clock()
    with ProgressReporter(Console(file=out, force_terminal=False), every=30, clock=clock) as reporter, \
            reporting(reporter):
        report("dtc", 1, 10)
        for _ in range(5):  # latent passes of a second each: no line of their own
            for done in range(1, 4):
                clock.now += 0.1
                report("embedding", done, 3)
    assert out.getvalue() == ""


def test_on_a_terminal_one_bar_per_stage():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with ProgressReporter(console) as reporter, reporting(reporter):
        for done in range(1, 4):
            report("pretext", done, 3, loss=0.5)
        report("dtc", 1, 2)
    text = out.getvalue()
    assert "pretext" in text and "3/3" in text and "loss 0.5" in text and "dtc" in text


def test_nothing_is_reported_unless_asked(capsys):
    from fthc.progress import Reporter, current

    assert type(current()) is Reporter  # outside `reporting`, the do-nothing reporter
    report("pretext", 1, 10)
    announce("nothing")
    assert capsys.readouterr() == ("", "")


def test_a_count_of_one_takes_the_singular():
    """Messages read '1 customer', never '1 customers'; thousands keep their separator."""
    from fthc.progress import counted

    assert counted(1, "customer") == "1 customer" and counted(1.0, "segment") == "1 segment"
    assert counted(0, "customer") == "0 customers" and counted(4500, "transaction") == "4,500 transactions"
    assert counted(1, "history", "histories") == "1 history" and counted(3, "history", "histories") == "3 histories"


def test_the_verb_after_a_count_agrees_with_it():
    """'1 customer has', '2 customers have': the verb takes the number `counted` gives the noun."""
    import numpy as np

    from fthc.progress import agreeing, counted

    assert f"{counted(1, 'customer')} {agreeing(1, 'has', 'have')}" == "1 customer has"
    assert f"{counted(2, 'customer')} {agreeing(2, 'has', 'have')}" == "2 customers have"
    assert agreeing(0, "is", "are") == "are" and agreeing(1.0, "is", "are") == "is"
    assert agreeing(np.int64(1), "holds", "hold") == "holds"
