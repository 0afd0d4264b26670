"""The README and every page of docs/ are run as a newcomer would: every ```bash and ```python block, in order,
in one fresh folder per page (```toml file=NAME blocks are written there first; a ```text output block must match
what the command before it printed, numbers aside). Blocks marked `notest` (installing, a cluster, hours-long
benchmarks) are not run. Links between the pages must land on a file and a heading that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/guide.md", "docs/large-data.md", "docs/grid.md", "docs/methods.md", "docs/outputs.md",
         "docs/commands.md", "docs/benchmarks.md", "docs/architecture.md"]
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
RUNNABLE = {"bash", "python"}


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    attrs: frozenset[str]
    file: str | None
    text: str


def blocks(page: str) -> list[Block]:
    source = (ROOT / page).read_text()
    found = []
    for m in FENCE.finditer(source):
        info = m.group(1).split()
        lang = info[0] if info else ""
        file = next((a.split("=", 1)[1] for a in info[1:] if a.startswith("file=")), None)
        found.append(Block(page, source.count("\n", 0, m.start()) + 1, lang, frozenset(info[1:]), file, m.group(2)))
    return found


def shape(line: str) -> str:
    """A line with its numbers (counts, times, figures) and spacing taken out: what must stay the same."""
    return re.sub(r"\s+", " ", re.sub(r"\d[\d,.:]*", "#", line)).strip()


def check_output(expected: str, printed: str, where: str, skip: tuple[str, ...]) -> None:
    """Every line of the README's output block that is not a table's rule or body (indented) is printed, numbers
    aside: the wording a user reads is the wording the README shows. `skip`: prefixes of lines that depend on
    the data's size (the test runs on less data than the README), numbers aside."""
    got = {shape(line) for line in printed.splitlines()}
    skip = tuple(shape(s) for s in skip)  # numbers aside: "3 risk grades" skips "4 risk grades" too
    for line in expected.splitlines():
        if not line.strip() or line[0].isspace() or any(ch in line for ch in "┏┃┡│└━─") or \
                shape(line).startswith(skip):
            continue
        assert shape(line) in got, f"{where}: the README shows {line!r}, the command printed:\n{printed}"


def run_page(page: str, folder: Path, monkeypatch, skip_output: tuple[str, ...] = ()) -> int:
    monkeypatch.chdir(folder)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "COLUMNS": "80", "NO_COLOR": "1"}
    env.pop("FTHC_STORE", None)
    namespace: dict = {"__name__": "__docs__"}
    printed, ran = "", 0
    for block in blocks(page):
        if block.file:
            (folder / block.file).write_text(block.text)
    for block in blocks(page):
        where = f"{page}:{block.line}"
        if block.file:
            continue
        if "output" in block.attrs:
            check_output(block.text, printed, where, skip_output)
        elif block.lang in RUNNABLE and "notest" not in block.attrs:
            ran += 1
            if block.lang == "bash":
                done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.text], cwd=folder, env=env,
                                      capture_output=True, text=True, timeout=900)
                printed = done.stdout + done.stderr
                assert done.returncode == 0, f"{where} exited {done.returncode}:\n{block.text}\n{printed}"
            else:
                exec(compile(block.text, where, "exec"), namespace)
    return ran


@pytest.mark.parametrize("page", [p for p in PAGES if p != "README.md"])
def test_page_runs(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)


def test_readme_runs(tmp_path, monkeypatch):
    """The README's quickstart runs on a small synthetic Berka put where it would generate its own (4,500
    accounts take a minute), so the one line that says it generates the data is not printed here, and the
    risk lines whose wording follows the data (ranges of hyperparameters chosen, how many grades) and the offer's
    lines of figures (which grades pay, which segment saves) are not compared; the inclusion line and the offer's
    product and decision counts are."""
    from fthc.data.synth import write_synthetic_berka

    write_synthetic_berka(tmp_path / "fthc-data" / "berka", n_accounts=700, seed=0)
    assert run_page("README.md", tmp_path, monkeypatch, skip_output=("no --data given", "k=", "note:", "risk: outcomes",
                                                                   "grades 4-9 of the master scale", "segment-only AUC",
                                                                   # the offer's figures follow the data's grades
                                                                   "no credit history:", "all:", "break-even",
                                                                   "savings:", "protection:")) >= 3


def test_every_page_is_run_and_linked():
    pages = {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")} | {"README.md"}
    assert pages == set(PAGES), "a page of docs/ that tests/test_docs.py does not run"
    readme = (ROOT / "README.md").read_text()
    for page in PAGES[1:]:
        assert page in readme, f"README.md does not link {page}"


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES)
def test_links_land(page):
    text = (ROOT / page).read_text()
    prose = FENCE.sub("", text)
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        dest = (ROOT / page).parent / path if path else ROOT / page
        assert dest.exists(), f"{page} links {target}: no such file"
        if fragment and dest.suffix == ".md":
            headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", FENCE.sub("", dest.read_text()), re.M)}
            assert fragment in headings, f"{page} links {target}: no such heading in {dest.name}"


def test_block_parser_sees_attributes():
    """The parser the page tests rely on reads the language, `file=` and `notest`."""
    found = blocks("docs/guide.md")
    assert any(b.file == "mapping.toml" for b in found)
    assert all(b.lang for b in found)
    assert sum(b.lang == "bash" for b in found) >= 4


def test_the_command_reference_has_every_command_and_option():
    """docs/commands.md cannot fall behind the command line: every command has its heading and every option of
    it is named (the column mapping's options in their shared table)."""
    import click

    from fthc.cli import main

    text = (ROOT / "docs" / "commands.md").read_text()
    sections = dict(re.findall(r"^## (fthc [\w -]+)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    mapping = sections.pop("Column mapping", None) or text[text.index("## Column mapping"):]

    def walk(cmd, name):
        if isinstance(cmd, click.Group):
            for sub, c in cmd.commands.items():
                yield from walk(c, f"{name} {sub}")
        else:
            yield name, cmd

    for name, cmd in walk(main, "fthc"):
        assert name in sections, f"docs/commands.md has no section for {name}"
        for param in cmd.params:
            if not isinstance(param, click.Option):
                continue
            where = mapping if param.name in {"mapping", "lenient", "date_format", "decimal", "encoding"} or param.name.endswith("_col") \
                and "outcome" not in param.name else sections[name]
            assert f"`{param.opts[0]}`" in where, f"docs/commands.md does not describe {name} {param.opts[0]}"
