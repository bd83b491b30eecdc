"""MTT e-invoices from the stalls to the vendor's e-invoice provider or T-VAN.

Invoices travel inside the stalls' journal entries; as each entry arrives, `queue` keeps its XML
in a durable outbound queue; `sender` posts batches through an `adapter` (a provider-neutral HTTP
one, or a test's simulator) and polls for the tax authority's answer (status 8: received);
`export` writes XML batches for upload by hand. docs/TAX.md describes the flow and the
provider protocol.
"""
