"""Tests of feedsvc.documents."""
