"""The bounds of what the stall accepts, in one place: its validators enforce them and its
OpenAPI document (pos/openapi.py) publishes them, both from these names.

Money is bounded by `sync.numbers.MAX_AMOUNT` (the core's, shared with the server).
"""
from __future__ import annotations

NAME_CHARS = 120            # a product's or a free line's name
UNIT_CHARS = 16             # kg, bó, cái...
CATEGORY_CHARS = 40
BARCODE_CHARS = 32
TRACE_URL_CHARS = 300
REASON_CHARS = 200          # a void's, a cash move's, an invoice correction's
LOCATION_CODE_CHARS = 20    # the tax settings' free fields
BUYER_TAX_CODE_CHARS = 14   # 10 digits, a dash and a 3-digit branch
BUYER_ID_CHARS = 12         # a citizen ID number
BUYER_NAME_CHARS = 100
BUYER_ADDRESS_CHARS = 200
MAX_LINES = 200             # lines in one sale
MAX_PAYMENTS = 4            # payments in one sale
PARK_LABEL_CHARS = 40       # a parked cart's label ("Chị áo xanh")
MAX_PARKED = 20             # carts set aside at once
MAX_PAGE = 500              # sales in one page of GET /api/sales
