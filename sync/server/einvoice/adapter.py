"""How the server talks to an e-invoice provider or T-VAN: an interface and a provider-neutral
HTTP adapter (docs/TAX.md, "The provider protocol").

Providers answer asynchronously: a batch is posted and acknowledged with a transaction id, then
polled until each invoice is received by the tax authority (status 8) or rejected. The batch id
travels as the `Idempotency-Key`, so a batch posted again after a lost answer is the same batch
to the provider: nothing is sent twice.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Protocol

import requests

RECEIVED = 8


class ProviderError(Exception):
    """The provider could not be reached or did not answer usefully; `retry` says whether the
    same request may simply be tried again later."""

    def __init__(self, message: str, *, retry: bool = True):
        super().__init__(message)
        self.retry = retry


class TransactionUnknown(ProviderError):
    """The provider does not know the transaction (it lost it): post the batch again."""


@dataclass(frozen=True)
class InvoiceResult:
    """What the provider says about one invoice: `outcome` is received, rejected or pending."""

    code: str
    outcome: str
    status: int | None = None
    message: str = ""


@dataclass(frozen=True)
class PollResult:
    """A poll's answer: per-invoice results (those it mentions)."""

    results: list[InvoiceResult] = field(default_factory=list)


class Adapter(Protocol):
    """What the sender needs from a provider."""

    def send_batch(self, batch_id: str, invoices: list[tuple[str, str]]) -> str:
        """Post (code, xml) pairs; return the provider's transaction id."""
        ...

    def poll(self, transaction_id: str) -> PollResult:
        """The current results of a posted batch."""
        ...


class HttpAdapter:
    """The provider-neutral JSON-over-HTTPS adapter.

    POST {base}/v1/batches  {"batch_id", "invoices": [{"code", "xml": base64}]}
         Idempotency-Key: batch_id  →  202 {"transaction_id"}
    GET  {base}/v1/batches/{transaction_id}
         →  200 {"state": "processing"|"done",
                 "invoices": [{"code", "status": int|null, "rejected": bool, "message"}]}
         →  404 when the provider has lost the transaction
    """

    def __init__(self, base_url: str, api_key: str = "", *, timeout: float = 15.0,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def send_batch(self, batch_id: str, invoices: list[tuple[str, str]]) -> str:
        body = {"batch_id": batch_id, "invoices": [
            {"code": code, "xml": base64.b64encode(xml.encode("utf-8")).decode("ascii")}
            for code, xml in invoices]}
        try:
            response = self.session.post(f"{self.base_url}/v1/batches", json=body,
                                         headers={**self._headers(), "Idempotency-Key": batch_id},
                                         timeout=self.timeout)
        except (requests.RequestException, OSError) as exc:
            raise ProviderError(f"no answer from the provider: {exc}") from None
        if response.status_code in (200, 201, 202):
            try:
                transaction_id = response.json()["transaction_id"]
            except (ValueError, KeyError, TypeError):
                raise ProviderError("the provider's answer has no transaction_id") from None
            if not isinstance(transaction_id, str) or not 0 < len(transaction_id) <= 100:
                raise ProviderError("the provider's transaction_id is not usable")
            return transaction_id
        retry = response.status_code in (401, 403, 408, 409, 425, 429) \
            or response.status_code >= 500
        raise ProviderError(f"the provider answered HTTP {response.status_code}:"
                            f" {response.text[:300]}", retry=retry)

    def poll(self, transaction_id: str) -> PollResult:
        try:
            response = self.session.get(f"{self.base_url}/v1/batches/{transaction_id}",
                                        headers=self._headers(), timeout=self.timeout)
        except (requests.RequestException, OSError) as exc:
            raise ProviderError(f"no answer from the provider: {exc}") from None
        if response.status_code == 404:
            raise TransactionUnknown(f"the provider does not know transaction {transaction_id}")
        if response.status_code != 200:
            raise ProviderError(f"the provider answered HTTP {response.status_code}")
        try:
            items = response.json()["invoices"]
            results = []
            for item in items:
                status = item.get("status")
                outcome = ("received" if status == RECEIVED else
                           "rejected" if item.get("rejected") else "pending")
                results.append(InvoiceResult(str(item["code"]), outcome,
                                             status if isinstance(status, int) else None,
                                             str(item.get("message") or "")[:500]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError("the provider's poll answer cannot be read") from None
        return PollResult(results)
