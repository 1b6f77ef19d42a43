"""Trust: kitemark grants and signed credentials, scope grants, the OAuth 2 authorization server, consents."""
