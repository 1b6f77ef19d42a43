"""Accounts: people who sign in, their roles, passwords and bearer tokens."""
