"""Fakes of external APIs as real HTTP servers speaking the real format."""
