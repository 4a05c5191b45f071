"""Tests of feedsvc.config."""
