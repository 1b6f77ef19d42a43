"""Not a package to import: this file only gives the SDK's tests a unique module path.

With it, pytest names them `sdk.tests.*`, so running the whole repository's suite
(whose testpaths include both `tests` and `sdk/tests`) does not collide with the
server's `tests.conftest`.
"""
