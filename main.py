"""Seed entry point, as in the paper's repository: train and evaluate every pending run (resumable).

Same as `fthc run`; the store comes from FTHC_STORE (or a .env file), default fthc.db, and the data from
--data (default: synthetic Berka generated into fthc-data/berka).
"""

import sys
from pathlib import Path

from dotenv import load_dotenv

from fthc.cli import main

if __name__ == "__main__":
    load_dotenv(Path.cwd() / ".env")  # the working folder's .env
    main(["run", *sys.argv[1:]])
