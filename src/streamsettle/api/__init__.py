"""The HTTP edge: app factory, routers, dependencies and error mapping."""
