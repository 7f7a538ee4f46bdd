"""Identity: who is calling.

Accounts and roles (``accounts``), password hashing (``passwords``), signed access and refresh
tokens (``tokens``), login, refresh and logout (``auth``), revoked tokens (``revocation``) and
sign-in through an OpenID Connect provider (``oidc``).
"""
