"""A WSGI app served by waitress on a free loopback port, for tests that need real HTTP."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def serve_in_thread(app: Any, threads: int = 4) -> Iterator[str]:
    """Yield the base URL while waitress serves `app` in a thread; stop it cleanly afterwards."""
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close every channel from the loop's own thread (closing from here races its select()).
        server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map,
                                                                      ignore_all=True))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
