"""What the two HTTP edges (``api`` and ``web``) share: the runtime and unit-of-work
dependencies. Neither edge imports the other; both import from here."""
