"""The stall's side of sync (docs/SYNC.md), one job per module:

- `errors`    SyncError and its kinds (retryable, refused, pairing, cancelled)
- `lockfile`  one sync per stall across processes (a `flock` in the data directory)
- `http`      the stall's one HTTP client for the provincial server (base URL, token,
              timeouts, bounded JSON, error mapping, sockets cut from another thread); sync,
              recover and the tax status (pos/tax/status.py) all use it
- `state`     the sync settings keys, `read_state` / `SyncState`, `SyncResult` (imports nothing
              of the client or of tax, so anything may read the state)
- `pairing`   a one-time code becomes the stall's token
- `push`      the journal push and the server's cursor
- `bank`      bank notifications pulled and applied
- `catalogue` the province's catalogue pulled and merged, stall details that flow down
- `bundles`   the bundle signing key and USB bundles
- `client`    `SyncClient`: one sync of one stall, the parts above in order
- `backoff`   the stall's one back-off formula (sync worker and print worker)
- `worker`    `SyncWorker`, the background thread, and its watchdog
- `recover`   rebuild a dead stall from the server's copy of its journal

No Flask here: the `market-pos` CLI, the worker thread in `market-pos serve` and the tests use it
directly. Importing this package imports none of its modules (the print worker takes `backoff`
alone).
"""
