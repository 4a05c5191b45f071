"""Tests of feedsvc.web."""
