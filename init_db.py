"""Seed entry point, as in the paper's repository: write the default grid into the store.

Same as `fthc init-db`; the store comes from FTHC_STORE (or a .env file), default fthc.db. For MongoDB,
MONGO_USERNAME / MONGO_PASSWORD are read from the environment or .env, as the seed did.
"""

import sys
from pathlib import Path

from dotenv import load_dotenv

from fthc.cli import main

if __name__ == "__main__":
    load_dotenv(Path.cwd() / ".env")  # the working folder's .env
    main(["init-db", *sys.argv[1:]])
