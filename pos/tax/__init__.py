"""Tax-ready stalls: MTT e-invoices from the cash register, the household's books and thresholds.

Nothing here needs a network: the invoice code is made at the moment of sale (mtt), the invoice XML
is built from the journal (invoice_xml), and the books and threshold warnings are read from the
stall's own tables (books, thresholds). docs/TAX.md explains the law behind each rule.
"""
