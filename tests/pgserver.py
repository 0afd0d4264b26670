"""A throwaway local PostgreSQL server (initdb + pg_ctl in a temporary folder) for tests and benchmarks."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl in a temporary folder, on a free loopback port, trust authentication; stopped on exit."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.dir = None
        self.url = None

    def start(self) -> str | None:
        if self.bin is None:
            return None
        self.dir = tempfile.mkdtemp(prefix="fthc-pg-")
        run_as = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                return None
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            run_as = ["runuser", "-u", "postgres", "--"]
        port = _free_port()
        data = os.path.join(self.dir, "data")
        subprocess.run(run_as + [f"{self.bin}/initdb", "-D", data, "--auth=trust", "-U", "fthc", "-E", "UTF8"],
                       check=True, capture_output=True)
        subprocess.run(run_as + [f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w",
                                 "-o", f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200",
                                 "start"], check=True, capture_output=True)
        self.url = f"postgresql://fthc@127.0.0.1:{port}/postgres"
        self._run_as = run_as
        return self.url

    def stop(self) -> None:
        if self.dir and self.url:
            subprocess.run(self._run_as + [f"{self.bin}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "fast",
                                           "stop"], capture_output=True)
            time.sleep(0.2)
            shutil.rmtree(self.dir, ignore_errors=True)
