"""An e-invoice provider simulator: a real HTTP server on 127.0.0.1 speaking the provider-neutral
protocol of sync/server/einvoice/adapter.py, with faults.

It accepts, delays (a batch stays "processing" for some polls), rejects (invoices whose XML is
not valid against the XSD, and a seeded share of the rest), and loses requests (answers 503, drops
the connection before or after processing, forgets a transaction). It keeps a ledger of what
reached the "tax authority", so tests can check that nothing was sent twice or dropped.

Run it by hand:  python -m tests.harness.provider_sim --port 8090 --reject 10 --lose-after 20
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import threading
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECEIVED = 8


@dataclass
class Faults:
    """Percentages of requests that meet each fault, and how long batches stay processing."""

    error: int = 0            # answer 503 without processing
    lose_before: int = 0      # drop the connection without processing
    lose_after: int = 0       # process, then drop the connection (the answer is lost)
    forget: int = 0           # a poll finds the transaction forgotten (404)
    reject: int = 0           # invoices refused (chosen by their code, the same every time)
    max_delay_polls: int = 0  # polls answered "processing" before a batch is done
    seed: int = 1


@dataclass
class Ledger:
    """What the simulated provider saw and forwarded."""

    delivered: Counter = field(default_factory=Counter)      # code → times given to the authority
    rejected: dict[str, str] = field(default_factory=dict)
    batches_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    posts: int = 0
    polls: int = 0
    faults: Counter = field(default_factory=Counter)


class ProviderSimulator:
    """The simulator's state and its HTTP server (start/stop, or use as a context manager)."""

    def __init__(self, faults: Faults | None = None, api_key: str = "sim-key",
                 schema_path: Any = None):
        self.faults = faults or Faults()
        self.api_key = api_key
        self.ledger = Ledger()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._transactions: dict[str, dict[str, Any]] = {}
        self._by_batch: dict[str, str] = {}
        self._schema = None
        if schema_path is not None:
            from lxml import etree
            with open(schema_path, "rb") as f:
                self._schema = etree.XMLSchema(etree.parse(f))
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- the provider's behaviour --------------------------------------------------------------

    def _roll(self, percent: int, name: str) -> bool:
        hit = percent > 0 and self._rng.randrange(100) < percent
        if hit:
            self.ledger.faults[name] += 1
        return hit

    def _verdict(self, code: str, xml: str) -> tuple[bool, str]:
        if self._schema is not None:
            from lxml import etree
            try:
                document = etree.fromstring(xml.encode("utf-8"))
            except etree.XMLSyntaxError as exc:
                return False, f"XML không hợp lệ: {exc}"
            if not self._schema.validate(document):
                return False, f"Sai cấu trúc: {self._schema.error_log.last_error}"
        digest = int(hashlib.sha256(f"{self.faults.seed}:{code}".encode()).hexdigest(), 16)
        if digest % 100 < self.faults.reject:
            return False, "Cơ quan thuế từ chối: thông tin người bán không khớp đăng ký"
        return True, ""

    def accept_batch(self, batch_id: str, invoices: list[dict[str, Any]]) -> str:
        """Register a batch (once per batch id) and return its transaction id."""
        with self._lock:
            if batch_id in self._by_batch:
                return self._by_batch[batch_id]
            transaction_id = str(uuid.uuid4())
            results = {}
            for item in invoices:
                code = item["code"]
                xml = base64.b64decode(item["xml"]).decode("utf-8")
                self.ledger.batches_of[code].add(batch_id)
                ok, message = self._verdict(code, xml)
                if ok and self.ledger.delivered[code] == 0:
                    self.ledger.delivered[code] += 1
                elif ok:   # already forwarded under an earlier (forgotten) transaction
                    pass
                else:
                    self.ledger.rejected[code] = message
                results[code] = (ok, message)
            self._transactions[transaction_id] = {
                "results": results, "polls_left": self._rng.randint(0, self.faults.max_delay_polls)}
            self._by_batch[batch_id] = transaction_id
            return transaction_id

    def poll(self, transaction_id: str) -> dict[str, Any] | None:
        with self._lock:
            transaction = self._transactions.get(transaction_id)
            if transaction is None:
                return None
            if transaction["polls_left"] > 0:
                transaction["polls_left"] -= 1
                return {"state": "processing", "invoices": [
                    {"code": code, "status": None, "rejected": False, "message": ""}
                    for code in transaction["results"]]}
            return {"state": "done", "invoices": [
                {"code": code, "status": RECEIVED if ok else None, "rejected": not ok,
                 "message": message} for code, (ok, message) in transaction["results"].items()]}

    def forget(self, transaction_id: str) -> None:
        with self._lock:
            self._transactions.pop(transaction_id, None)
            for batch, tid in list(self._by_batch.items()):
                if tid == transaction_id:
                    del self._by_batch[batch]

    # --- HTTP ----------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {sim.api_key}":
                    self._answer(401, {"error": "bad api key"})
                    return False
                return True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != "/v1/batches":
                    return self._answer(404, {"error": "not found"})
                if not self._authorised():
                    return None
                with sim._lock:
                    sim.ledger.posts += 1
                    error = sim._roll(sim.faults.error, "error")
                    before = not error and sim._roll(sim.faults.lose_before, "lose_before")
                    after = not (error or before) and sim._roll(sim.faults.lose_after,
                                                                "lose_after")
                if error:
                    return self._answer(503, {"error": "busy"})
                if before:
                    return self._drop()
                try:
                    body = json.loads(raw)
                    batch_id = body["batch_id"]
                    assert batch_id == self.headers.get("Idempotency-Key")
                    invoices = body["invoices"]
                except (ValueError, KeyError, TypeError, AssertionError):
                    return self._answer(400, {"error": "malformed batch"})
                transaction_id = sim.accept_batch(batch_id, invoices)
                if after:
                    return self._drop()
                return self._answer(202, {"transaction_id": transaction_id})

            def do_GET(self) -> None:
                if not self.path.startswith("/v1/batches/"):
                    return self._answer(404, {"error": "not found"})
                if not self._authorised():
                    return None
                transaction_id = self.path.rsplit("/", 1)[1]
                with sim._lock:
                    sim.ledger.polls += 1
                    error = sim._roll(sim.faults.error, "poll_error")
                    forget = not error and sim._roll(sim.faults.forget, "forget")
                if error:
                    return self._answer(503, {"error": "busy"})
                if forget:
                    sim.forget(transaction_id)
                answer = sim.poll(transaction_id)
                if answer is None:
                    return self._answer(404, {"error": "unknown transaction"})
                return self._answer(200, answer)

        return Handler

    def start(self, port: int = 0) -> "ProviderSimulator":
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> "ProviderSimulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the e-invoice provider simulator.")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default="sim-key")
    for name in ("error", "lose_before", "lose_after", "forget", "reject"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=0,
                            help=f"percentage of requests: {name}")
    parser.add_argument("--max-delay-polls", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--xsd", default=None, help="reject invoices not valid against this XSD")
    args = parser.parse_args()
    faults = Faults(args.error, args.lose_before, args.lose_after, args.forget, args.reject,
                    args.max_delay_polls, args.seed)
    sim = ProviderSimulator(faults, args.api_key, args.xsd).start(args.port)
    print(f"provider simulator on {sim.url} (api key {args.api_key})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
