"""Tests of feedsvc.fediverse."""
