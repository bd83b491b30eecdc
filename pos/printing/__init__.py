"""Receipt printing: a queue of print jobs in SQLite, a worker thread and the printer back-ends.

A sale is committed first; printing is a separate, later step that can fail without touching the
sale. `enqueue` is a tiny insert; the `PrintWorker` thread, with its own connection, renders each
due job and sends it through CUPS (`lp`) or straight to an ESC/POS printer as a raster image, so
that Vietnamese needs no printer code page. Failures are retried with back-off; jobs that waited
longer than `stale_minutes` are held until the vendor confirms, so that a printer that comes back
after hours does not print a morning of old receipts. The printer's last known state is kept in
the settings table so that every process can show it.

The parts, each imported from the module that owns it (this package re-exports nothing):

- `config`    how this stall prints: `PrinterConfig` (the `printer_*` settings rows), their
              validation, and the back-end a configuration makes
- `messages`  the fixed printer messages stored in the database, `message_text`, `PrinterError`
- `queue`     the `print_jobs` table: `Job`, `enqueue`, `enqueue_receipt_if_auto`, `list_jobs`,
              `release`, `retry`, `cancel`
- `status`    the printer's last known state, recorded by the worker, shown by `printer_status`
- `backends`  what every back-end takes and does: a `Rendered` page, the `Backend` protocol
- `cups`      `CupsBackend`: the PDF to `lp -d QUEUE -o media=Custom.WxHmm` (its own page size)
- `escpos`    ESC/POS raster encoding and the network (`EscposNetworkBackend`) and USB
              (`EscposDeviceBackend`) printers
- `worker`    `PrintWorker`, the thread that prints due jobs, with back-off and stale holding
- `wakeup`    the workers running in this process, woken when a job is queued or changed
"""
