"""mattekit over HTTP: an API (FastAPI), a rembg-compatible endpoint, and a web page.

Install with the ``server`` extra (``pip install 'mattekit[server]'``) and run
``mattekit serve``. `create_app` makes the ASGI application; `run_server` serves it with
uvicorn on 127.0.0.1, or on another address when an API key is set.
"""

from __future__ import annotations

from mattekit.server.app import create_app
from mattekit.server.run import build_server, run_server
from mattekit.server.settings import API_KEY_ENV, ServerSettings, check_bind

__all__ = ["API_KEY_ENV", "ServerSettings", "build_server", "check_bind", "create_app", "run_server"]
