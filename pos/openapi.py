"""The OpenAPI 3.1 document of the stall's JSON API, kept next to the code it describes; its
bounds come from the names the validators use (pos/limits.py, sync.numbers.MAX_AMOUNT)."""
from __future__ import annotations

from typing import Any

from sync.numbers import MAX_AMOUNT

from . import limits
from .tax.settings import MAX_BLOCK

_INT = {"type": "integer"}
_STR = {"type": "string"}
_MONEY = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT, "description": "whole đồng"}
_QUANTITY = {"oneOf": [{"type": "string", "pattern": r"^\d{1,7}(\.\d{1,3})?$"},
                       {"type": "number", "exclusiveMinimum": 0}],
             "description": "units, at most three decimals, e.g. \"0.75\""}


def _text(most: int, *, min_length: int = 0, null: bool = False) -> dict[str, Any]:
    """A string field bounded as its validator bounds it (pos/limits.py)."""
    schema: dict[str, Any] = {"type": ["string", "null"] if null else "string", "maxLength": most}
    if min_length:
        schema["minLength"] = min_length
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input", 401: "No valid token or unlocked session",
            403: "The owner is required", 404: "Not found", 409: "Conflict",
            413: "Body larger than 1 MB"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": _STR, "message": _STR, "field": _STR}}}},
    "SaleLineInput": {"oneOf": [
        {"type": "object", "required": ["product_id", "quantity"], "additionalProperties": False,
         "properties": {"product_id": _INT, "quantity": _QUANTITY,
                        "unit_price": {**_MONEY, "description": "haggled: the sold price (the"
                                       " list price stays in the entry); a helper may cut it by"
                                       " at most helper_price_limit %, beyond → 403"
                                       " owner_required"}}},
        {"type": "object", "required": ["name", "unit_price", "quantity"],
         "additionalProperties": False,
         "properties": {"name": _text(limits.NAME_CHARS, min_length=1),
                        "unit_price": _MONEY, "quantity": _QUANTITY,
                        "unit": _text(limits.UNIT_CHARS)}}]},
    "PaymentInput": {"type": "object", "required": ["method", "amount"],
                     "additionalProperties": False,
                     "properties": {"method": {"enum": ["cash", "qr", "credit"]},
                                    "amount": _MONEY, "tendered": _MONEY,
                                    "customer_id": {**_INT, "minimum": 1, "description":
                                                    "credit only: whose balance it raises;"
                                                    " above her limit a helper gets 403"
                                                    " owner_required"},
                                    "reference": {"type": "string",
                                                  "pattern": r"^SAP\d{1,9} \d{4}$",
                                                  "description": "QR only; else the next one"}}},
    "SaleInput": {"type": "object", "required": ["lines", "payments"],
                  "additionalProperties": False,
                  "properties": {"lines": {"type": "array", "minItems": 1, "maxItems": limits.MAX_LINES,
                                           "items": _ref("SaleLineInput")},
                                 "payments": {"type": "array", "minItems": 1,
                                              "maxItems": limits.MAX_PAYMENTS,
                                              "items": _ref("PaymentInput")},
                                 "buyer": _ref("Buyer"), "discount": _ref("Discount")}},
    "Discount": {"type": "object", "required": ["amount", "reason"], "additionalProperties": False,
                 "description": "off the whole sale: total = lines − amount; a helper may give"
                                " at most helper_price_limit % of the lines, beyond → 403"
                                " owner_required",
                 "properties": {"amount": {**_MONEY, "minimum": 1},
                                "reason": _text(limits.REASON_CHARS, min_length=1)}},
    "Buyer": {"type": "object", "additionalProperties": False,
              "description": "only in MTT e-invoice mode, when the buyer asks for her tax code"
                             " or ID number on the invoice",
              "properties": {"tax_code": {"type": "string", "pattern": r"^\d{10}(-\d{3})?$|^\d{12}$"},
                             "id_number": _text(limits.BUYER_ID_CHARS),
                             "name": _text(limits.BUYER_NAME_CHARS),
                             "address": _text(limits.BUYER_ADDRESS_CHARS)}},
    "TaxSettings": {"type": "object", "properties": {
        "mode": {"enum": ["receipt", "mtt"]}, "tax_code": _STR, "invoice_form": {"enum": [1, 2]},
        "symbol": {"type": "string", "pattern": r"^$|^C\d{2}M[A-Z]{2}$"},
        "mtt_range": {"type": "string", "pattern": r"^$|^[A-Z0-9]{5}$"},
        "location_code": _text(limits.LOCATION_CODE_CHARS),
        "device_block": {"type": "integer", "minimum": 0, "maximum": MAX_BLOCK},
        "send_deadline": {"type": "string", "pattern": r"^\d{2}:\d{2}$"},
        "default_group": {"enum": ["goods", "services", "production", "other"]},
        "book": {"enum": ["s1a", "s2a"]}}},
    "SaleLine": {"type": "object",
                 "required": ["line_no", "product_id", "name", "unit", "quantity",
                              "quantity_milli", "unit_price", "amount"],
                 "properties": {"line_no": _INT, "product_id": {"type": ["integer", "null"]},
                                "name": _STR, "unit": _STR, "quantity": _STR,
                                "quantity_milli": _INT, "unit_price": _MONEY, "amount": _MONEY,
                                "list_price": {**_MONEY, "description": "haggled lines only"}}},
    "Payment": {"type": "object", "required": ["method", "amount"],
                "properties": {"method": {"enum": ["cash", "qr", "credit"]}, "amount": _MONEY,
                               "tendered": _MONEY, "change": _MONEY, "customer_id": _INT,
                               "reference": _STR, "bank_bin": _STR, "account": _STR,
                               "state": {"enum": ["vendor_confirmed", "bank_confirmed",
                                                  "mismatch"]}}},
    "Sale": {"type": "object",
             "required": ["id", "seq", "number", "at", "business_day", "total", "status", "lines",
                          "payments", "hash", "sold_by", "void"],
             "properties": {
                 "id": {"type": "string", "format": "uuid"}, "seq": _INT, "number": _INT,
                 "at": _STR, "business_day": {"type": "string", "format": "date"},
                 "total": _MONEY, "sold_by": _STR, "status": {"enum": ["completed", "voided"]},
                 "void": {"oneOf": [{"type": "null"}, {
                     "type": "object", "required": ["seq", "reason"],
                     "properties": {"seq": _INT, "reason": _STR,
                                    "at": {"type": ["string", "null"]}}}]},
                 "lines": {"type": "array", "items": _ref("SaleLine")},
                 "payments": {"type": "array", "items": _ref("Payment")},
                 "discount": _ref("Discount"),
                 "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                 "invoice_code": {"type": ["string", "null"],
                                  "pattern": r"^M[1-6]-\d{2}-[A-Z0-9]{5}-\d{11}$",
                                  "description": "the MTT e-invoice code (MTT mode only)"}}},
    "RefundInput": {
        "type": "object", "required": ["lines", "payments", "reason"],
        "additionalProperties": False,
        "properties": {
            "lines": {"type": "array", "minItems": 1, "maxItems": limits.MAX_LINES, "items": {
                "type": "object", "required": ["line"], "additionalProperties": False,
                "properties": {"line": {**_INT, "minimum": 1,
                                        "description": "1-based position in the sale's lines"},
                               "quantity": {**_QUANTITY, "description": "part of the line;"
                                            " all that is left when absent"}}}},
            "payments": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
                "type": "object", "required": ["method"], "additionalProperties": False,
                "properties": {"method": {"enum": ["cash", "qr", "credit"], "description":
                                          "credit: off the debt of the sale's credit customer"},
                               "amount": {**_MONEY, "minimum": 1, "description":
                                          "may be left out of a single payment: the whole"
                                          " refund"}}}},
            "reason": _text(limits.REASON_CHARS, min_length=1)}},
    "Refund": {
        "type": "object",
        "required": ["id", "seq", "sale_id", "total", "lines", "payments", "hash"],
        "properties": {
            "id": {"type": "string", "format": "uuid"}, "seq": _INT,
            "sale_id": {"type": "string", "format": "uuid"}, "business_day": _STR, "at": _STR,
            "total": {**_MONEY, "description": "the positive amount given back"},
            "reason": _STR,
            "lines": {"type": "array", "items": {"type": "object", "required": [
                "line", "quantity", "quantity_milli", "amount"], "properties": {
                "line": _INT, "product_id": {"type": ["integer", "null"]}, "name": _STR,
                "unit": _STR, "quantity": _STR, "quantity_milli": _INT, "unit_price": _MONEY,
                "amount": _MONEY}}},
            "payments": {"type": "array", "items": {"type": "object", "required": [
                "method", "amount"], "properties": {"method": {"enum": ["cash", "qr", "credit"]},
                                                    "amount": _MONEY, "customer_id": _INT}}},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "invoice_code": {"type": "string", "description": "the adjustment invoice (MTT)"}}},
    "ProductInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": _text(limits.NAME_CHARS, min_length=1),
        "unit": _text(limits.UNIT_CHARS, min_length=1), "price": _MONEY,
        "category": _text(limits.CATEGORY_CHARS),
        "barcode": _text(limits.BARCODE_CHARS, null=True),
        "ocop_stars": {"oneOf": [{"type": "null"}, {"enum": [3, 4, 5]}]},
        "trace_url": _text(limits.TRACE_URL_CHARS, null=True),
        "active": {"type": "boolean"}}},
    "Product": {"type": "object",
                "required": ["id", "name", "unit", "price", "category", "barcode", "ocop_stars",
                             "trace_url", "active", "weighed"],
                "properties": {"id": _INT, "name": _STR, "unit": _STR, "price": _MONEY,
                               "category": _STR, "barcode": {"type": ["string", "null"]},
                               "ocop_stars": {"type": ["integer", "null"]},
                               "trace_url": {"type": ["string", "null"]},
                               "active": {"type": "boolean"}, "weighed": {"type": "boolean"},
                               "server_ref": {"type": ["string", "null"],
                                              "description": "set on products of the province's"
                                                             " reference catalogue"},
                               "binding": {"type": "boolean",
                                           "description": "the market board sets the price"}}},
    "Settings": {"type": "object", "properties": {
        key: _STR for key in ("vendor_name", "stall_name", "stall_number", "market", "commune",
                              "province", "phone", "tax_code", "device_id")}
        | {"tax": _ref("TaxSettings"),
           "helper_price_limit": {"type": "integer", "minimum": 0, "maximum": 100,
                                  "description": "the most (in %) a helper may take off a"
                                                 " price or a sale without the owner's PIN"}}},
    "CashMoveInput": {"type": "object", "required": ["type", "amount"],
                      "properties": {"type": {"enum": ["float", "in", "out"]}, "amount": _MONEY,
                                     "reason": _text(limits.REASON_CHARS)}},
    "CashMove": {"type": "object",
                 "required": ["seq", "business_day", "type", "amount", "reason", "at"],
                 "properties": {"seq": _INT, "business_day": _STR,
                                "type": {"enum": ["float", "in", "out"]}, "amount": _MONEY,
                                "reason": _STR, "at": _STR}},
    "DayReport": {"type": "object",
                  "required": ["business_day", "sales_count", "revenue", "voids_count",
                               "voided_amount", "payments", "qr_by_state", "cash_drawer"],
                  "properties": {
                      "business_day": _STR, "sales_count": _INT, "revenue": _INT,
                      "voids_count": _INT, "voided_amount": _INT,
                      "payments": {"type": "object"}, "qr_by_state": {"type": "object"},
                      "cash_drawer": {"type": "object", "required": [
                          "opening_float", "cash_in", "cash_out", "tendered", "change",
                          "cash_sales", "expected"]},
                      "credit": {"type": "object", "required": ["sales", "repaid"],
                                 "description": "credit sales (revenue, not cash) and"
                                                " repayments (cash ones are in the drawer)"},
                      "z_number": _INT, "counted_cash": _INT, "difference": _INT,
                      "closed_by": _STR, "seq": _INT, "at": _STR, "hash": _STR}},
    "QrPayment": {"type": "object",
                  "required": ["id", "reference", "amount", "total", "state", "sale_id", "bank_bin",
                               "bank_name", "account", "holder", "payload", "created_at",
                               "mismatch", "bank_confirmed"],
                  "properties": {
                      "id": {"type": "string", "format": "uuid"}, "reference": _STR,
                      "amount": {**_MONEY, "description": "the part paid by transfer"},
                      "total": _MONEY, "state": {"enum": ["pending", "recorded", "cancelled"]},
                      "sale_id": {"type": ["string", "null"]}, "bank_bin": _STR,
                      "bank_name": _STR, "account": _STR, "holder": _STR,
                      "payload": {"type": "string", "description": "the VietQR (EMVCo) text"},
                      "created_at": _STR, "request": {"type": "object"},
                      "mismatch": {"type": ["object", "null"]},
                      "bank_confirmed": {"type": "boolean"},
                      "customer_id": {"type": ["integer", "null"],
                                      "description": "a repayment's code: whose"},
                      "parked": {"type": "boolean",
                                 "description": "set aside: not brought back full screen"}}},
    "CustomerInput": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": _text(limits.BUYER_NAME_CHARS, min_length=1),
                       "phone": {"type": ["string", "null"], "pattern": r"^[0-9 .()+-]{0,20}$"},
                       "note": _text(limits.REASON_CHARS, null=True),
                       "credit_limit": {**_MONEY, "type": ["integer", "null"]},
                       "active": {"type": "boolean"}}},
    "Customer": {
        "type": "object",
        "required": ["id", "name", "phone", "note", "credit_limit", "active", "balance",
                     "owing_since"],
        "properties": {"id": _INT, "name": _STR, "phone": {"type": ["string", "null"]},
                       "note": {"type": ["string", "null"]},
                       "credit_limit": {"type": ["integer", "null"]}, "active": {"type": "boolean"},
                       "balance": {"type": "integer", "description": "what she owes now"},
                       "owing_since": {"type": ["string", "null"]},
                       "entries": {"type": "array", "items": {
                           "type": "object", "required": ["seq", "kind", "amount", "at"],
                           "properties": {"seq": _INT, "kind": {"enum": ["sale", "repayment",
                                                                          "void", "refund"]},
                                          "amount": {"type": "integer",
                                                     "description": "+ raises the debt"},
                                          "method": {"type": ["string", "null"]}, "at": _STR,
                                          "business_day": _STR,
                                          "sale_id": {"type": ["string", "null"]},
                                          "sale_number": {"type": ["integer", "null"]}}}}}},
    "Repayment": {
        "type": "object", "required": ["id", "seq", "customer_id", "amount", "method", "balance",
                                       "hash"],
        "properties": {"id": _STR, "seq": _INT, "customer_id": _INT, "amount": _MONEY,
                       "method": {"enum": ["cash", "qr"]},
                       "balance": {"type": "integer", "description": "what she owes after it"},
                       "business_day": _STR, "at": _STR, "reference": _STR,
                       "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
    "PurchaseInput": {
        "type": "object", "required": ["supplier", "lines", "payments"],
        "additionalProperties": False,
        "properties": {
            "supplier": {"type": "object", "required": ["name"], "additionalProperties": False,
                         "description": "The grower: personal data, sealed in the journal",
                         "properties": {"name": _text(limits.BUYER_NAME_CHARS, min_length=1),
                                        "id_number": {"type": ["string", "null"],
                                                      "pattern": r"^[0-9 ]{0,20}$",
                                                      "description": "Số căn cước, 12 digits"},
                                        "address": _text(limits.BUYER_ADDRESS_CHARS, null=True),
                                        "phone": {"type": ["string", "null"],
                                                  "pattern": r"^[0-9 .()+-]{0,20}$"}}},
            "lines": {"type": "array", "minItems": 1, "maxItems": limits.MAX_LINES, "items": {
                "oneOf": [
                    {"type": "object", "required": ["product_id", "quantity", "unit_price"],
                     "additionalProperties": False,
                     "properties": {"product_id": _INT, "quantity": _QUANTITY,
                                    "unit_price": {**_MONEY, "minimum": 1}}},
                    {"type": "object", "required": ["name", "unit", "quantity", "unit_price"],
                     "additionalProperties": False,
                     "description": "A product not in the list yet: created (hidden from the"
                                    " sell screen unless `price`, its selling price, is given)",
                     "properties": {"name": _text(limits.NAME_CHARS, min_length=1),
                                    "unit": _text(limits.UNIT_CHARS, min_length=1),
                                    "quantity": _QUANTITY,
                                    "unit_price": {**_MONEY, "minimum": 1},
                                    "price": _MONEY}}]}},
            "payments": {"type": "array", "minItems": 1, "maxItems": limits.MAX_PAYMENTS,
                         "description": "a single payment may leave out `amount`: it pays"
                                        " the whole purchase",
                         "items": {"type": "object", "required": ["method"],
                                   "additionalProperties": False,
                                   "properties": {"method": {"enum": ["cash", "qr"]},
                                                  "amount": {**_MONEY, "minimum": 1}}}}}},
    "Purchase": {
        "type": "object",
        "required": ["id", "seq", "number", "total", "lines", "payments", "hash", "warnings"],
        "properties": {
            "id": _STR, "seq": _INT, "number": _INT, "business_day": _STR, "at": _STR,
            "total": _MONEY,
            "lines": {"type": "array", "items": {
                "type": "object",
                "required": ["product_id", "name", "unit", "quantity", "unit_price", "amount"],
                "properties": {"product_id": {"type": ["integer", "null"]}, "name": _STR,
                               "unit": _STR, "quantity": _STR, "unit_price": _MONEY,
                               "amount": _MONEY}}},
            "payments": {"type": "array", "items": {
                "type": "object", "required": ["method", "amount"],
                "properties": {"method": {"enum": ["cash", "qr"]}, "amount": _MONEY}}},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "warnings": {"type": "array", "items": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"enum": ["cash_limit"]}, "message": _STR}}}}},
    "StockItem": {
        "type": "object",
        "required": ["product_id", "name", "unit", "tracked", "on_hand", "short", "low"],
        "properties": {"product_id": _INT, "name": _STR, "unit": _STR,
                       "tracked": {"type": "boolean",
                                   "description": "since its first purchase or count"},
                       "on_hand": {"type": ["string", "null"],
                                   "pattern": r"^-?\d+(\.\d{1,3})?$",
                                   "description": "null when not tracked; below zero when more"
                                                  " was sold than recorded"},
                       "short": {"type": "boolean", "description": "tracked and below zero"},
                       "low": {"type": "boolean"}}},
    "StockCountInput": {
        "type": "object", "required": ["lines", "reason"], "additionalProperties": False,
        "properties": {"reason": _text(limits.REASON_CHARS, min_length=1),
                       "lines": {"type": "array", "minItems": 1, "maxItems": limits.MAX_LINES,
                                 "items": {"type": "object",
                                           "required": ["product_id", "counted"],
                                           "additionalProperties": False,
                                           "properties": {"product_id": _INT,
                                                          "counted": {"oneOf": [
                                                              {"type": "string", "pattern":
                                                               r"^\d{1,7}(\.\d{1,3})?$"},
                                                              {"type": "number",
                                                               "minimum": 0}]}}}}}},
    "StockCount": {
        "type": "object", "required": ["seq", "business_day", "reason", "hash", "lines"],
        "properties": {"seq": _INT, "business_day": _STR, "reason": _STR,
                       "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                       "lines": {"type": "array", "items": {
                           "type": "object",
                           "required": ["product_id", "counted", "before", "difference"],
                           "properties": {"product_id": _INT, "counted": _STR,
                                          "before": {"type": ["string", "null"]},
                                          "difference": _STR}}}}},
    "ParkedCartInput": {
        "type": "object", "required": ["lines"], "additionalProperties": False,
        "properties": {"label": _text(limits.PARK_LABEL_CHARS),
                       "lines": {"type": "array", "minItems": 1, "maxItems": limits.MAX_LINES,
                                 "items": _ref("SaleLineInput")},
                       "discount": _ref("Discount")}},
    "ParkedCart": {
        "type": "object", "required": ["id", "label", "total", "created_at", "lines", "discount"],
        "properties": {"id": {"type": "string", "format": "uuid"}, "label": _STR,
                       "total": _MONEY, "created_at": _STR,
                       "lines": {"type": "array", "items": {
                           "type": "object",
                           "required": ["product_id", "name", "unit", "quantity", "unit_price",
                                        "amount"],
                           "properties": {"product_id": {"type": ["integer", "null"]},
                                          "name": _STR, "unit": _STR, "quantity": _STR,
                                          "unit_price": _MONEY, "list_price": _MONEY,
                                          "amount": _MONEY}}},
                       "discount": {"oneOf": [_ref("Discount"), {"type": "null"}]}}},
    "BankAccountInput": {"type": "object", "required": ["bank_bin", "account", "holder"],
                         "properties": {"bank_bin": {"type": "string", "pattern": r"^\d{6}$"},
                                        "account": _STR, "holder": _STR,
                                        "is_card": {"type": "boolean"},
                                        "default": {"type": "boolean"}}},
    "BankAccount": {"type": "object",
                    "required": ["id", "bank_bin", "account", "holder", "is_card", "is_default",
                                 "bank_name"],
                    "properties": {"id": _INT, "bank_bin": _STR, "account": _STR,
                                   "holder": _STR, "is_card": {"type": "boolean"},
                                   "is_default": {"type": "boolean"}, "bank_name": _STR,
                                   "bank_full_name": _STR}},
    "StatementResult": {"type": "object",
                        "required": ["rows", "counts", "mismatches", "recorded_sales"],
                        "properties": {"rows": _INT, "recorded_sales": _INT,
                                       "counts": {"type": "object"},
                                       "mismatches": {"type": "array"}}},
    "PrinterStatus": {"type": "object",
                      "required": ["state", "message", "backend", "auto_print", "queued", "held",
                                   "failed"],
                      "properties": {"state": {"enum": ["ok", "error", "off", "unknown"]},
                                     "message": _STR, "at": {"type": ["number", "null"]},
                                     "backend": _STR, "auto_print": {"type": "boolean"},
                                     "queued": _INT, "held": _INT, "failed": _INT}},
    "SyncStatus": {"type": "object",
                   "required": ["pending", "acked_seq", "last_sync_at", "last_error",
                                "needs_attention", "server_url", "paired"],
                   "properties": {
                       "pending": _INT, "acked_seq": _INT, "head_seq": _INT,
                       "last_sync_at": {"type": ["string", "null"]},
                       "last_error": {"type": ["string", "null"]},
                       "last_error_code": {"type": ["string", "null"]},
                       "needs_attention": {"oneOf": [{"type": "null"}, {
                           "type": "object", "required": ["seq", "code", "message"],
                           "properties": {"seq": {"type": ["integer", "null"]}, "code": _STR,
                                          "message": _STR}}],
                           "description": "An entry the server refused; later entries wait"},
                       "server_url": {"type": ["string", "null"]},
                       "paired": {"type": "boolean"}, "device_id": _STR,
                       "last_bundle_at": {"type": ["string", "null"]},
                       "clock_offset_ms": {"type": ["integer", "null"],
                                           "description": "server time minus device time"}}},
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    sale_id = {"name": "sale_id", "in": "path", "required": True, "schema": _STR}
    product_id = {"name": "product_id", "in": "path", "required": True, "schema": _INT}
    pending_id = {"name": "pending_id", "in": "path", "required": True, "schema": _STR}
    body = lambda name: {"required": True,  # noqa: E731
                         "content": {"application/json": {"schema": _ref(name)}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Market 4.0 POS — stall API", "version": "1.0.0",
                 "description": "Money is whole đồng (integers); quantities are decimal strings"
                                " with at most three decimals. Errors are"
                                " {\"error\": {\"code\", \"message\"}}."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/sales": {
                "post": {"operationId": "createSale", "requestBody": body("SaleInput"),
                         "responses": {"201": _json(_ref("Sale"), "The recorded sale"),
                                       **_errors(400, 401, 413)}},
                "get": {"operationId": "listSales", "parameters": [
                    {"name": "since_seq", "in": "query", "schema": {**_INT, "minimum": 0}},
                    {"name": "limit", "in": "query",
                     "schema": {**_INT, "minimum": 1, "maximum": limits.MAX_PAGE}}],
                    "responses": {"200": _json({"type": "object", "required": ["sales"],
                                                "properties": {"sales": {
                                                    "type": "array", "items": _ref("Sale")}}},
                                               "Sales after since_seq, oldest first"),
                                  **_errors(400, 401)}}},
            "/api/sales/{sale_id}": {"get": {
                "operationId": "getSale", "parameters": [sale_id],
                "responses": {"200": _json(_ref("Sale"), "The sale"), **_errors(401, 404)}}},
            "/api/sales/{sale_id}/void": {"post": {
                "operationId": "voidSale", "parameters": [sale_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["reason"],
                    "properties": {"reason": _text(limits.REASON_CHARS, min_length=1)}}}}},
                "responses": {"200": _json(_ref("Sale"), "The voided sale"),
                              **_errors(400, 401, 403, 404, 409)}}},
            "/api/sales/{sale_id}/receipt.pdf": {"get": {
                "operationId": "receiptPdf", "parameters": [
                    sale_id,
                    {"name": "width", "in": "query", "schema": {"enum": ["58", "80", "A5", "A4"]}},
                    {"name": "copy", "in": "query", "schema": {"enum": ["0", "1"]}},
                    {"name": "lang", "in": "query", "schema": {"enum": ["vi", "en"]}}],
                "responses": {"200": {"description": "The receipt", "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    **_errors(400, 401, 404)}}},
            "/api/sales/{sale_id}/invoice.xml": {"get": {
                "operationId": "invoiceXml", "parameters": [sale_id],
                "responses": {"200": {"description": "The MTT e-invoice (HDon)", "content": {
                    "application/xml": {"schema": {"type": "string"}}}},
                    **_errors(401, 404)}}},
            "/api/sales/{sale_id}/print": {"post": {
                "operationId": "printReceipt", "parameters": [sale_id],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"copy": {"type": "boolean"}}}}}},
                "responses": {"202": _json({"type": "object", "required": ["job_id", "printer"],
                                            "properties": {"job_id": _INT,
                                                           "printer": _ref("PrinterStatus")}},
                                           "Queued for the printer"),
                              **_errors(400, 401, 404, 409)}}},
            "/api/qr-payments": {
                "post": {"operationId": "createQrPayment", "requestBody": body("SaleInput"),
                         "description": "Check the sale and show a dynamic VietQR code for its"
                                        " one QR payment; nothing is recorded until confirmed.",
                         "responses": {"201": _json(_ref("QrPayment"), "The pending code"),
                                       **_errors(400, 401, 409)}},
                "get": {"operationId": "listQrPayments", "responses": {
                    "200": _json({"type": "object", "required": ["qr_payments"], "properties": {
                        "qr_payments": {"type": "array", "items": _ref("QrPayment")}}},
                        "Codes still pending, newest first"), **_errors(401)}}},
            "/api/qr-payments/{pending_id}": {"get": {
                "operationId": "getQrPayment", "parameters": [pending_id],
                "responses": {"200": _json(_ref("QrPayment"), "The code and the bank's word"),
                              **_errors(401, 404)}}},
            "/api/qr-payments/{pending_id}/confirm": {"post": {
                "operationId": "confirmQrPayment", "parameters": [pending_id],
                "responses": {"201": _json(_ref("Sale"), "The sale, recorded now"),
                              "200": _json(_ref("Sale"), "The sale recorded before"),
                              **_errors(401, 404, 409)}}},
            "/api/qr-payments/{pending_id}/cancel": {"post": {
                "operationId": "cancelQrPayment", "parameters": [pending_id],
                "responses": {"200": _json(_ref("QrPayment"), "Cancelled; nothing recorded"),
                              **_errors(401, 404, 409)}}},
            "/api/qr-payments/{pending_id}/park": {"post": {
                "operationId": "parkQrPayment", "parameters": [pending_id],
                "description": "Set the code aside; the bank's notification still records it.",
                "responses": {"200": _json(_ref("QrPayment"), "Parked"),
                              **_errors(401, 404, 409)}}},
            "/api/qr-payments/{pending_id}/resume": {"post": {
                "operationId": "resumeQrPayment", "parameters": [pending_id],
                "responses": {"200": _json(_ref("QrPayment"), "Back on screen"),
                              **_errors(401, 404, 409)}}},
            "/api/parked-carts": {
                "post": {"operationId": "parkCart", "requestBody": body("ParkedCartInput"),
                         "description": "Set a cart aside (\"Giữ đơn\"); its lines are checked"
                                        " as a sale's; at most %d wait (409 too_many_parked)."
                                        % limits.MAX_PARKED,
                         "responses": {"201": _json(_ref("ParkedCart"), "Parked"),
                                       **_errors(400, 401, 409)}},
                "get": {"operationId": "listParkedCarts", "responses": {
                    "200": _json({"type": "object", "required": ["parked_carts"], "properties": {
                        "parked_carts": {"type": "array", "items": _ref("ParkedCart")}}},
                        "The carts waiting, oldest first"), **_errors(401)}}},
            "/api/customers": {
                "post": {"operationId": "createCustomer", "requestBody": body("CustomerInput"),
                         "description": "A customer of the credit book; her name, phone and"
                                        " note travel to the province only sealed.",
                         "responses": {"201": _json(_ref("Customer"), "The new customer"),
                                       **_errors(400, 401)}},
                "get": {"operationId": "listCustomers", "parameters": [
                    {"name": "q", "in": "query", "schema": _STR,
                     "description": "name without diacritics, or phone digits"},
                    {"name": "owing", "in": "query", "schema": {"enum": ["1"]},
                     "description": "everyone who owes, the oldest debt first"}],
                    "responses": {"200": _json({"type": "object", "required": ["customers"],
                                                "properties": {"customers": {
                                                    "type": "array",
                                                    "items": _ref("Customer")}}},
                                               "Customers"), **_errors(401)}}},
            "/api/customers/{customer_id}": {
                "get": {"operationId": "getCustomer", "parameters": [{"name": "customer_id", "in": "path", "required": True, "schema": _INT}],
                        "responses": {"200": _json(_ref("Customer"), "Balance and history"),
                                      **_errors(401, 404)}},
                "patch": {"operationId": "updateCustomer", "parameters": [{"name": "customer_id", "in": "path", "required": True, "schema": _INT}],
                          "requestBody": {"required": True, "content": {"application/json": {
                              "schema": {"type": "object"}}}},
                          "responses": {"200": _json(_ref("Customer"), "Changed"),
                                        **_errors(400, 401, 403, 404)}}},
            "/api/customers/{customer_id}/payments": {"post": {
                "operationId": "repay", "parameters": [{"name": "customer_id", "in": "path", "required": True, "schema": _INT}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["method", "amount"],
                    "additionalProperties": False,
                    "properties": {"method": {"enum": ["cash", "qr"]},
                                   "amount": {**_MONEY, "minimum": 1}}}}}},
                "description": "cash: recorded now; qr: a pending code (QrPayment) recorded when"
                               " confirmed. More than she owes → 409 over_payment.",
                "responses": {"201": _json({"oneOf": [_ref("Repayment"), _ref("QrPayment")]},
                                           "Recorded, or the code to show"),
                              **_errors(400, 401, 404, 409)}}},
            "/api/purchases": {"post": {
                "operationId": "recordPurchase", "requestBody": body("PurchaseInput"),
                "description": "Goods bought from a grower: the stock of each product rises;"
                               " cash paid is cash out of the drawer in X/Z. The grower's name,"
                               " ID number, address and phone travel to the province only"
                               " sealed. Unknown product → 404 unknown_product; payments not"
                               " making the total → 400 payments_mismatch.",
                "responses": {"201": _json(_ref("Purchase"), "Recorded"),
                              **_errors(400, 401, 404)}}},
            "/api/stock": {"get": {
                "operationId": "listStock",
                "responses": {"200": _json({"type": "array", "items": _ref("StockItem")},
                                           "Products on sale or tracked, with their stock"),
                              **_errors(401)}}},
            "/api/margin": {"get": {
                "operationId": "getMargin",
                "description": "The owner's: per product and in total, for the business days"
                               " from..to (today without them; at most 366 days): bought,"
                               " sold, on hand, average buying price, gross margin"
                               " (pos/margin.py).",
                "parameters": [
                    {"name": "from", "in": "query", "schema": {"type": "string"},
                     "description": "yyyy-mm-dd or dd/mm/yyyy"},
                    {"name": "to", "in": "query", "schema": {"type": "string"},
                     "description": "yyyy-mm-dd or dd/mm/yyyy"}],
                "responses": {"200": _json({"type": "object",
                                            "required": ["from", "to", "products", "total"]},
                                           "The margin"),
                              **_errors(400, 401, 403)}}},
            "/api/stock/counts": {"post": {
                "operationId": "recordStockCount", "requestBody": body("StockCountInput"),
                "description": "The owner's: each counted quantity becomes the stock, the"
                               " difference a stock move.",
                "responses": {"201": _json(_ref("StockCount"), "Recorded"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/parked-carts/{cart_id}/take": {"post": {
                "operationId": "takeParkedCart", "parameters": [
                    {"name": "cart_id", "in": "path", "required": True, "schema": _STR}],
                "responses": {"200": _json(_ref("ParkedCart"), "Taken back; no longer waiting"),
                              **_errors(401, 404)}}},
            "/api/qr-payments/{pending_id}/qr.svg": {"get": {
                "operationId": "qrPaymentImage", "parameters": [pending_id],
                "responses": {"200": {"description": "The code", "content": {
                    "image/svg+xml": {"schema": {"type": "string"}}}}, **_errors(401, 404)}}},
            "/api/qr-payments/{pending_id}/bill.pdf": {"get": {
                "operationId": "qrPaymentBill", "parameters": [
                    pending_id,
                    {"name": "width", "in": "query", "schema": {"enum": ["58", "80", "A5", "A4"]}},
                    {"name": "lang", "in": "query", "schema": {"enum": ["vi", "en"]}}],
                "responses": {"200": {"description": "The unpaid bill with its code", "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    **_errors(400, 401, 404)}}},
            "/api/bank-accounts": {
                "get": {"operationId": "listBankAccounts", "responses": {
                    "200": _json({"type": "object", "required": ["bank_accounts"], "properties": {
                        "bank_accounts": {"type": "array", "items": _ref("BankAccount")}}},
                        "Receiving accounts, the default first"), **_errors(401)}},
                "post": {"operationId": "addBankAccount", "requestBody": body("BankAccountInput"),
                         "responses": {"201": _json(_ref("BankAccount"), "The account"),
                                       **_errors(400, 401, 403)}}},
            "/api/bank/checks": {"get": {"operationId": "bankChecks", "responses": {
                "200": _json({"type": "object", "required": ["checks"], "properties": {
                    "checks": {"type": "array", "items": {"type": "object"}}}},
                    "Recent mismatches reported by the bank"), **_errors(401)}}},
            "/api/bank/statement": {"post": {
                "operationId": "importStatement",
                "requestBody": {"required": True, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "statement": {"type": "string", "format": "binary"}}}}}},
                "responses": {"200": _json(_ref("StatementResult"), "What was reconciled"),
                              **_errors(400, 401, 403)}}},
            "/api/printer": {"get": {"operationId": "printerStatus", "responses": {
                "200": _json(_ref("PrinterStatus"), "The printer's state"), **_errors(401)}}},
            "/api/sales/{sale_id}/refund": {"post": {
                "operationId": "refundSale", "parameters": [sale_id],
                "requestBody": body("RefundInput"),
                "responses": {"201": _json(_ref("Refund"), "The refund"),
                              **_errors(400, 401, 403, 404, 409)}}},
            "/api/products": {
                "get": {"operationId": "listProducts", "parameters": [
                    {"name": "barcode", "in": "query", "required": False,
                     "description": "only the products with exactly this barcode",
                     "schema": {"type": "string", "pattern": r"^[0-9A-Za-z\-]{4,%d}$"
                                % limits.BARCODE_CHARS}}], "responses": {
                    "200": _json({"type": "object", "required": ["products"], "properties": {
                        "products": {"type": "array", "items": _ref("Product")}}}, "Catalogue"),
                    **_errors(400, 401)}},
                "post": {"operationId": "createProduct", "requestBody": body("ProductInput"),
                         "responses": {"201": _json(_ref("Product"), "The new product"),
                                       **_errors(400, 401, 403)}}},
            "/api/products/{product_id}": {
                "get": {"operationId": "getProduct", "parameters": [product_id], "responses": {
                    "200": _json(_ref("Product"), "The product"), **_errors(401, 404)}},
                "patch": {"operationId": "updateProduct", "parameters": [product_id],
                          "requestBody": body("ProductInput"), "responses": {
                              "200": _json(_ref("Product"), "The changed product"),
                              **_errors(400, 401, 403, 404)}}},
            "/api/settings": {
                "get": {"operationId": "getSettings", "responses": {
                    "200": _json(_ref("Settings"), "Stall settings"), **_errors(401)}},
                "patch": {"operationId": "updateSettings", "requestBody": body("Settings"),
                          "responses": {"200": _json(_ref("Settings"), "Stall settings"),
                                        **_errors(400, 401, 403)}}},
            "/api/cash-moves": {"post": {
                "operationId": "createCashMove", "requestBody": body("CashMoveInput"),
                "responses": {"201": _json(_ref("CashMove"), "The recorded movement"),
                              **_errors(400, 401, 403)}}},
            "/api/reports/x": {"get": {
                "operationId": "xReport",
                "parameters": [{"name": "day", "in": "query",
                                "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": _json(_ref("DayReport"), "The day so far"),
                              **_errors(400, 401)}}},
            "/api/day-close": {"post": {
                "operationId": "closeDay", "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {
                        "type": "object", "required": ["counted_cash"],
                        "properties": {"counted_cash": _MONEY}}}}},
                "responses": {"201": _json(_ref("DayReport"), "The Z report"),
                              **_errors(400, 401, 403, 409)}}},
            "/api/reports/z/{z_number}": {"get": {
                "operationId": "zReport",
                "parameters": [{"name": "z_number", "in": "path", "required": True,
                                "schema": _INT}],
                "responses": {"200": _json(_ref("DayReport"), "A closed day"),
                              **_errors(401, 404)}}},
            "/api/sync/status": {"get": {"operationId": "syncStatus", "responses": {
                "200": _json(_ref("SyncStatus"), "What waits to be synced"), **_errors(401)}}},
            "/api/sync": {"post": {"operationId": "syncNow", "responses": {
                "202": _json({"allOf": [_ref("SyncStatus"), {
                    "type": "object", "required": ["sync"], "properties": {
                        "sync": {"enum": ["woken", "started", "running"]}}}]},
                    "A sync was started; it does not wait for the network"),
                **_errors(400, 401)}}},
            "/api/openapi.json": {"get": {"operationId": "openapi", "security": [],
                                          "responses": {"200": {"description": "This document"}}}},
        },
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
