"""Writing a command's results so that nothing is half-written, mixed or lost.

A command writes every result into a fresh folder beside the target (`.name.tmp-<run id>-<pid>`), and moves it into
place only when all of it is written: a killed run leaves the previous complete results, or none. A kill between
the two renames leaves the previous results in `.name.old-<run id>` beside it; the next command on that folder
puts them back, and removes the temporary folders of commands that are no longer running. Every folder fthc writes holds
`.fthc-run.json` (the run id, the command, the files); a folder holding anything else is refused unless the
user says `--force`, so that fthc never mixes its results with other files or deletes files it did not write.
Output paths are checked before any work starts.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from ..errors import FthcError

MARKER = ".fthc-run.json"


class OutputError(FthcError):
    """An output path that cannot be written, or would overwrite what fthc did not write."""


def _writable_parent(path: Path) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"{path}: its folder {parent} does not exist (create it first)")
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: the folder {parent} is not writable")
    return parent


def _name_fits(path: Path) -> None:
    try:
        limit = os.pathconf(path.parent if str(path.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(path.name.encode()) + 40 > limit:  # room for the temporary folder's suffix
        raise OutputError(f"{path}: the name is longer than this file system allows ({limit} bytes)")


def check_output_folder(out: Path, inputs: list[Path] = (), force: bool = False) -> None:
    """Before any work: `out` can become a results folder (it is absent, or a folder fthc wrote, or `force`), it
    is not an input, and its parent is writable."""
    out = Path(out)
    _name_fits(out)
    _writable_parent(out.absolute())
    for i in inputs:
        i = Path(i)
        if i.exists() and out.exists() and (out.resolve() == i.resolve() or i.resolve().is_relative_to(out.resolve())):
            raise OutputError(f"--out {out} holds the input {i}: results never overwrite their input")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")
    if out.exists() and not force:
        entries = [p.name for p in out.iterdir()]
        if entries and MARKER not in entries:
            raise OutputError(f"--out {out} holds files fthc did not write ({', '.join(sorted(entries)[:3])}"
                              f"{', ...' if len(entries) > 3 else ''}): choose an empty or new folder, or replace "
                              "it with --force")


def check_output_file(out: Path, inputs: list[Path] = (), suffixes=(".csv", ".parquet")) -> None:
    """Before any work: `out` can be written as a results file and is none of the inputs."""
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise OutputError(f"--out {out}: expected a {' or '.join(suffixes)} file")
    _name_fits(out)
    if out.exists() and out.is_dir():
        raise OutputError(f"--out {out} is a folder, not a file")
    _writable_parent(out.absolute())
    for i in inputs:
        i = Path(i)
        if i.exists() and out.exists() and out.resolve() == i.resolve():
            raise OutputError(f"--out {out} is the input {i}: results never overwrite their input")
        if i.exists() and i.is_dir() and out.absolute().resolve().is_relative_to(i.resolve()):
            raise OutputError(f"--out {out} is inside the input folder {i}: write it elsewhere")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: Path) -> None:
    """What a killed command left beside `out`: previous results moved aside and not yet replaced are put back;
    temporary folders of commands no longer running are removed."""
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        return
    for tmp in parent.glob(f".{out.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if tmp.is_dir() and not tmp.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
    olds = sorted((p for p in parent.glob(f".{out.name}.old-*") if p.is_dir() and not p.is_symlink()),
                  key=lambda p: p.stat().st_mtime)
    if olds and not out.exists():
        olds.pop().rename(out)
    if out.exists():
        for old in olds:
            if (old / MARKER).exists():
                shutil.rmtree(old, ignore_errors=True)


@contextmanager
def results_folder(out: Path, command: str, force: bool = False):
    """A fresh folder to write into; moved to `out` when the block ends without an error (else removed)."""
    out = Path(out)
    recover(out)
    run = uuid.uuid4().hex[:12]
    tmp = out.parent / f".{out.name}.tmp-{run}-{os.getpid()}"
    tmp.mkdir(parents=False)
    try:
        yield tmp
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        (tmp / MARKER).write_text(json.dumps({"run": run, "command": command, "finished": time.time(),
                                              "files": files}, indent=1))
        old = out.parent / f".{out.name}.old-{run}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_file(out: Path):
    """A temporary path beside `out`; `os.replace` it onto `out` once written (see `write_file`)."""
    return out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:12]}{out.suffix}"


def write_table(frame, out: Path, index: bool = False) -> None:
    """A CSV or Parquet file written whole or not at all."""
    out = Path(out)
    tmp = atomic_file(out)
    try:
        if out.suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=index)
        else:
            frame.to_csv(tmp, index=index)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
