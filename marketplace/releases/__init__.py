"""Releases: the manifests providers submit and what happens to them."""
