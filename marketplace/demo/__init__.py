"""Demo data: a realistic guideline version, scopes, schemes, organisations and services."""
