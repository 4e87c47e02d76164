"""Test and benchmark helpers that ship with the package: a scratch git repository
and a fake GitHub on loopback. Nothing here is used by the service itself."""
