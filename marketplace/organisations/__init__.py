"""Organisations: the providers (startups, charities, councils) that own services, and their members."""
