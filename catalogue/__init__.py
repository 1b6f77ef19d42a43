"""The catalogue and the citizen's account: search, service pages, ratings, complaints, outcomes,
the access log, export and erasure."""
