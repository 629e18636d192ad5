"""Fixtures for the data tests: replacing a download source, and a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from datadiet.data import download


@pytest.fixture
def use_source(monkeypatch):
    """Replace ``SOURCES[name]`` for the duration of a test."""
    return lambda name, source: monkeypatch.setitem(download.SOURCES, name, source)


@pytest.fixture
def http_root(tmp_path):
    """Serve a fresh folder on 127.0.0.1 (ephemeral port); yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()
