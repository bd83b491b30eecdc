"""The stall's side of sync (docs/SYNC.md), one job per module:

- `errors`    SyncError and its kinds (retryable, refused, pairing, cancelled)
- `lockfile`  one sync per stall across processes (a `flock` in the data directory)
- `http`      the stall's one HTTP client for the provincial server (base URL, token,
              timeouts, bounded JSON, error mapping, sockets cut from another thread); sync,
              recover and the e-invoice status all use it
- `state`     the sync settings keys, `read_state` / `SyncState`, `SyncResult` (imports nothing
              of the client or of tax, so anything may read the state)
- `session`   `SyncSession`: what the parts of one sync share (connection, HTTP client, lock,
              clock, short write transactions); the parts below take one
- `pairing`   a one-time code becomes the stall's token
- `push`      the journal push and the server's cursor
- `bank`      bank notifications pulled and applied
- `catalogue` the province's catalogue pulled and merged, stall details that flow down
- `bundles`   the bundle signing key and USB bundles
- `einvoice_status` which e-invoices the tax authority has received (asked of the server after a
              sync; reads the tax settings, while nothing in pos/tax imports this package)
- `client`    `SyncClient` (a `SyncSession`): one sync of one stall, the parts above in order;
              the only module that imports the parts, and none of them imports it
- `backoff`   the stall's one back-off formula (sync worker and print worker)
- `schedule`  when to push, poll and watch the bank (issue 21: coalesced pushes, jittered polls,
              the promised bound), and the province's load computed from its constants
- `worker`    `SyncWorker`, the background thread that runs the schedule, and its watchdog
- `recover`   rebuild a dead stall from the server's copy of its journal

No Flask here: the `market-pos` CLI, the worker thread in `market-pos serve` and the tests use it
directly. Importing this package imports none of its modules (the print worker takes `backoff`
alone).

Dependency order (each imports only modules before it; nothing imports `client` but `worker`
and `recover`): errors, lockfile, backoff, schedule, state; http; session; catalogue, push, bank,
einvoice_status; bundles (push); pairing (catalogue, push); client; worker, recover.
"""
