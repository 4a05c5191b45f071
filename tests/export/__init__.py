"""Tests of feedsvc.export."""
