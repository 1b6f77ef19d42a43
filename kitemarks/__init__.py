"""Trust: kitemark grants and credentials, scope grants, the OAuth server, the transparency log (issue #4)."""
