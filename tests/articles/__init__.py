"""Tests of feedsvc.articles."""
