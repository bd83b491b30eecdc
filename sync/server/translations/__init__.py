"""The Vietnamese catalogue of the provincial server (sync/server, templates/server)."""
