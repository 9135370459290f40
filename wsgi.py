"""WSGI entry point: ``flask --app wsgi ...`` and ``gunicorn wsgi:app``."""

import sys

from app import create_app
from config import ConfigError

# gunicorn boots a new worker whenever one exits, except on this status ("worker failed to boot"), where it
# stops: a configuration that cannot work must stop the server, not make it respawn workers forever.
CANNOT_START = 3

try:
    app = create_app()
except ConfigError as error:
    print(f"DQM Playground cannot start: {error}", file=sys.stderr, flush=True)
    sys.exit(CANNOT_START)
