"""Tests of feedsvc.urlmap."""
