"""One cluster: its plan (every container), PKI, creation, readiness, teardown, reaping, and the handle tests use."""
