"""GovStore marketplace: the platform's foundation and the assembly of the whole app."""

__version__ = "0.1.0"
