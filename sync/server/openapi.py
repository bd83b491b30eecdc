"""The OpenAPI 3.1 document of the sync API (/api/v1), kept next to the code it describes."""
from __future__ import annotations

from typing import Any

from sync.protocol import MAX_BATCH_ENTRIES, PAIRING_ALPHABET

_INT = {"type": "integer"}
_STR = {"type": "string"}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_PUBLIC_KEY = {"type": "string", "pattern": "^[0-9a-f]{64}$",
               "description": "The stall's Ed25519 public key (32 bytes in hex) that checks its"
                              " USB bundles; the private half never leaves the stall"}
_UUID = {"type": "string",
         "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
         "description": "UTC with milliseconds, e.g. 2026-11-22T08:15:30.123Z"}
_SEQ = {"type": "integer", "minimum": 0}
_SERVER_TIME_HEADER = {"X-Server-Time": {"description": "The server's time (UTC, ms)",
                                         "schema": _TIME}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "headers": dict(_SERVER_TIME_HEADER),
            "content": {"application/json": {"schema": schema}}, **extra}


_ERROR_TEXT = {
    400: "Malformed body or entry (missing fields, floats, not canonical), or a wrong pairing code",
    401: "Missing, unknown or revoked device token",
    403: "The token belongs to another device",
    404: "Unknown device",
    409: "Conflict",
    413: f"Body larger than 4 MiB or more than {MAX_BATCH_ENTRIES} entries",
    429: "Too many requests; wait Retry-After seconds",
    503: "Overloaded or the database is unavailable; retry after Retry-After seconds",
}


def _errors(*codes: int) -> dict[str, Any]:
    answers = {}
    for code in codes:
        answer = _json(_ref("Error"), _ERROR_TEXT[code])
        if code in (429, 503):
            answer["headers"] = {**answer["headers"],
                                 "Retry-After": {"description": "Seconds to wait",
                                                 "schema": _INT}}
        answers[str(code)] = answer
    return answers


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "server_time"], "properties": {
        "error": {"type": "object", "required": ["code", "message"],
                  "properties": {"code": _STR, "message": _STR, "seq": _INT, "index": _INT}},
        "server_time": _TIME}},
    "Entry": {"type": "object", "additionalProperties": False,
              "required": ["device_id", "seq", "id", "kind", "at", "payload", "prev_hash", "hash"],
              "description": "One journal entry exactly as the stall stores it (DESIGN.md, "
                             "invariant 2). The payload holds no floats; strings are NFC.",
              "properties": {"device_id": _UUID, "seq": {"type": "integer", "minimum": 1},
                             "id": _UUID, "kind": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
                             "at": _TIME, "payload": {}, "prev_hash": _HASH, "hash": _HASH}},
    "PairRequest": {"type": "object", "required": ["code", "head_seq"], "properties": {
        "code": {"type": "string", "description": f"8 characters of {PAIRING_ALPHABET},"
                                                  " shown as ABCD-EFGH"},
        "device_id": {**_UUID, "description": "The stall's own device id (required when"
                                              " head_seq > 0)"},
        "head_seq": _SEQ, "public_key": _PUBLIC_KEY}},
    "DeviceKeyRequest": {"type": "object", "required": ["public_key"],
                         "properties": {"public_key": _PUBLIC_KEY}},
    "DeviceKeyAnswer": {"type": "object", "required": ["public_key", "registered", "server_time"],
                        "properties": {"public_key": _PUBLIC_KEY,
                                       "registered": {"type": "boolean", "description":
                                                      "true: registered now; false: it already"
                                                      " was"},
                                       "server_time": _TIME}},
    "Stall": {"type": "object", "required": ["name", "market", "commune", "province"],
              "properties": {"name": _STR, "vendor_name": {"type": ["string", "null"]},
                             "market": _STR, "commune": _STR,
                             "district": {"type": ["string", "null"]}, "province": _STR,
                             "payment_code": {"type": "string", "pattern": "^SAP[0-9]+$"}}},
    "PairAnswer": {"type": "object",
                   "required": ["device_id", "token", "acked_seq", "head_hash", "stall",
                                "server_time"],
                   "properties": {"device_id": _UUID,
                                  "token": {"type": "string", "pattern": "^dt_"},
                                  "acked_seq": _SEQ, "head_hash": _HASH, "stall": _ref("Stall"),
                                  "public_key": {**_PUBLIC_KEY, "description": "The key sent,"
                                                 " now registered with the token"},
                                  "server_time": _TIME}},
    "PushRequest": {"type": "object", "required": ["device_id", "entries"], "properties": {
        "device_id": _UUID,
        "entries": {"type": "array", "maxItems": MAX_BATCH_ENTRIES, "items": _ref("Entry")}}},
    "PushAnswer": {"type": "object",
                   "required": ["acked_seq", "head_hash", "stored", "duplicates", "server_time"],
                   "properties": {"acked_seq": _SEQ, "head_hash": _HASH,
                                  "stored": _INT, "duplicates": _INT, "server_time": _TIME}},
    "PushRefusal": {"type": "object",
                    "required": ["error", "acked_seq", "head_hash", "server_time"],
                    "properties": {
                        "error": {"type": "object", "required": ["code", "message", "seq"],
                                  "properties": {"code": {"enum": ["conflict", "broken_chain",
                                                                   "bad_hash", "sequence_gap",
                                                                   "personal_data_in_clear"]},
                                                 "message": _STR, "seq": _INT}},
                        "acked_seq": _SEQ, "head_hash": _HASH, "server_time": _TIME}},
    "JournalPage": {"type": "object",
                    "required": ["device_id", "acked_seq", "head_hash", "entries",
                                 "next_after_seq", "server_time"],
                    "properties": {"device_id": _UUID, "acked_seq": _SEQ, "head_hash": _HASH,
                                   "entries": {"type": "array", "maxItems": MAX_BATCH_ENTRIES,
                                               "items": _ref("Entry")},
                                   "next_after_seq": {"type": ["integer", "null"], "minimum": 1,
                                                      "description": "after_seq of the next"
                                                      " page; null on the last page"},
                                   "server_time": _TIME}},
    "Head": {"type": "object", "required": ["device_id", "acked_seq", "head_hash", "server_time"],
             "properties": {"device_id": _UUID, "acked_seq": _SEQ, "head_hash": _HASH,
                            "server_time": _TIME}},
    "CatalogueProduct": {"type": "object",
                         "required": ["ref", "name", "unit", "price", "category", "binding",
                                      "active", "ocop_stars"],
                         "properties": {"ref": _STR, "name": _STR, "unit": _STR,
                                        "price": {"type": "integer", "minimum": 0,
                                                  "description": "whole đồng"},
                                        "category": {"type": ["string", "null"]},
                                        "binding": {"type": "boolean"},
                                        "active": {"type": "boolean"},
                                        "ocop_stars": {"type": ["integer", "null"],
                                                       "enum": [3, 4, 5, None]}}},
    "Catalogue": {"type": "object", "required": ["version", "products", "stall", "server_time"],
                  "properties": {"version": _SEQ,
                                 "products": {"type": "array",
                                              "items": _ref("CatalogueProduct")},
                                 "stall": _ref("Stall"), "server_time": _TIME}},
}

_BEARER = [{"deviceToken": []}]


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


PATHS: dict[str, Any] = {
    "/api/v1/pair": {"post": {
        "summary": "Pair a stall with a one-time code and receive its device token",
        "operationId": "pair", "security": [], "requestBody": _body("PairRequest"),
        "responses": {"200": _json(_ref("PairAnswer"), "Paired"),
                      **_errors(400, 409, 413, 429, 503)}}},
    "/api/v1/device-key": {"put": {
        "summary": "Register the stall's bundle signing key with its token, once (for a stall"
                   " paired before it sent one); another key for the same token is refused"
                   " (pair again with a new code)",
        "operationId": "registerDeviceKey", "security": _BEARER,
        "requestBody": _body("DeviceKeyRequest"),
        "responses": {"200": _json(_ref("DeviceKeyAnswer"), "Registered (or already was)"),
                      **_errors(400, 401, 409, 413, 503)}}},
    "/api/v1/journal": {"get": {
        "summary": "Download the device's own entries after after_seq, a page at a time (to"
                   " rebuild a stall that lost its storage)",
        "operationId": "downloadJournal", "security": _BEARER,
        "parameters": [
            {"name": "after_seq", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 0, "default": 0}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_BATCH_ENTRIES,
                        "default": 500}}],
        "responses": {"200": _json(_ref("JournalPage"), "Entries in seq order, exactly as"
                                   " stored"),
                      **_errors(400, 401, 503)}},
        "post": {
        "summary": "Push journal entries in seq order (one transaction per request)",
        "operationId": "pushJournal", "security": _BEARER,
        "parameters": [{"name": "X-Device-Time", "in": "header", "required": False,
                        "description": "The device's clock when sending; the server records "
                                       "the offset", "schema": _TIME}],
        "requestBody": _body("PushRequest"),
        "responses": {"200": _json(_ref("PushAnswer"), "Stored (or already held)"),
                      "409": _json(_ref("PushRefusal"), "An entry was refused; the entries "
                                   "before it were stored"),
                      **_errors(400, 401, 403, 413, 503)}}},
    "/api/v1/journal/head": {"get": {
        "summary": "The highest seq the server holds with no gap, and its hash",
        "operationId": "journalHead", "security": _BEARER,
        "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                        "schema": _STR}],
        "responses": {"200": _json(_ref("Head"), "The device's head",
                                   headers={**_SERVER_TIME_HEADER,
                                            "ETag": {"description": "A hash of the body (without"
                                                     " server_time): the same from every server"
                                                     " process", "schema": _STR}}),
                      "304": {"description": "Unchanged since the ETag sent (no body)"},
                      **_errors(401, 503)}}},
    "/api/v1/catalogue": {"get": {
        "summary": "The reference catalogue for the stall's market, with a strong ETag",
        "operationId": "catalogue", "security": _BEARER,
        "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                        "schema": _STR}],
        "responses": {"200": _json(_ref("Catalogue"), "The catalogue",
                                   headers={**_SERVER_TIME_HEADER,
                                            "ETag": {"description": "A hash of the body (without"
                                                     " server_time)", "schema": _STR}}),
                      "304": {"description": "Unchanged since the ETag sent",
                              "headers": dict(_SERVER_TIME_HEADER)},
                      **_errors(401, 503)}}},
    "/api/v1/bank/notifications": {
        "post": {
            "summary": "A bank balance-change notification (webhook): one transfer, or a list"
                       " under data (Casso) or transactions; stored once per transaction id and"
                       " routed to the stall whose payment reference (SAP12 0457) it carries",
            "operationId": "bankNotification", "security": [{"webhookSecret": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "description": "id|tid|transaction_id, amount|transferAmount,"
                " description|content, account|accountNumber, time|when|transactionDate"}}}},
            "responses": {"200": _json({"type": "object", "required": [
                "received", "stored", "duplicates", "unrouted", "server_time"], "properties": {
                "received": _SEQ, "stored": _SEQ, "duplicates": _SEQ, "unrouted": _SEQ,
                "server_time": _TIME}}, "Counted"), **_errors(400, 401, 503)}},
        "get": {
            "summary": "The calling stall's bank notifications after id `after`, oldest first",
            "operationId": "stallBankNotifications", "security": _BEARER,
            "parameters": [{"name": "after", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0, "default": 0}}],
            "responses": {"200": _json({"type": "object", "required": [
                "notifications", "more", "server_time"], "properties": {
                "notifications": {"type": "array", "items": {"type": "object", "required": [
                    "id", "txn_id", "amount", "description", "reference", "paid_at"]}},
                "more": {"type": "boolean"}, "server_time": _TIME}}, "One page"),
                **_errors(400, 401, 503)}}},
    "/api/v1/openapi.json": {"get": {
        "summary": "This document", "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Market 4.0 provincial sync API", "version": "1.0.0",
                 "description": "Stalls push their journal and pull the reference catalogue "
                                "(docs/SYNC.md). Every answer carries server_time."},
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"deviceToken": {
                           "type": "http", "scheme": "bearer",
                           "description": "The device token from /api/v1/pair (dt_…)"},
                           "webhookSecret": {
                               "type": "http", "scheme": "bearer",
                               "description": "The secret from `market-server webhook-secret`"
                                              " (wh_…); also accepted as Apikey or"
                                              " X-Webhook-Secret"}}},
    }
