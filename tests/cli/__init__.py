"""Tests of feedsvc.cli."""
