"""The creators' settlement page: server-rendered templates and static assets."""
