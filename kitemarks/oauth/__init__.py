"""The OAuth 2 authorization server: authlib grants behind a thin Starlette adaptor, introspection, revocation."""
