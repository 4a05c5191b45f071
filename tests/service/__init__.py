"""Tests of feedsvc.service."""
