"""Webhooks: an organisation's endpoint, signed deliveries fed from audit events, retries, a log."""
