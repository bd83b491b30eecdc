"""Stall-to-province synchronisation: the shared protocol, the stall's client and the provincial server."""
