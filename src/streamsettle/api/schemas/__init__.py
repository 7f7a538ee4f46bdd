"""Request and response bodies of the HTTP API, in ``XxxCreate`` / ``XxxPublic`` pairs."""
