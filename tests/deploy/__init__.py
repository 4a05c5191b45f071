"""Tests of feedsvc.deploy."""
