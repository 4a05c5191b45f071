"""Tests of feedsvc.catalog."""
