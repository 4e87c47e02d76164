"""Helpers shared by the test groups: builders, fakes, live servers, recorders."""
