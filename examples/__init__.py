"""Examples that run beside GovStore: programs a department or a service would write."""
