"""A WSGI app served by waitress on a free loopback port, for tests that need real HTTP."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

from waitress import wasyncore
from waitress.server import create_server


@contextmanager
def serve_in_thread(app: Any, threads: int = 4) -> Iterator[str]:
    """Yield the base URL while waitress serves `app` in a thread; stop it cleanly afterwards.

    The socket map is ours (create_server's `map` argument), and the serving thread runs the
    loop in short turns until told to stop, then closes every channel itself: nothing is closed
    from another thread while a select() is using it (that race gave EBADF at teardown).
    """
    socket_map: dict[int, Any] = {}
    server = create_server(app, map=socket_map, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def serve() -> None:
        try:
            while not stop.is_set():
                wasyncore.loop(timeout=0.05, map=socket_map, count=1)
        finally:
            wasyncore.close_all(socket_map, ignore_all=True)

    thread = threading.Thread(target=serve, name="waitress-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        if thread.is_alive():
            raise RuntimeError("the test server did not stop within 10 s")
