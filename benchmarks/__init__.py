"""Benchmarks for feedsvc: a corpus generator and a runner that prints, saves and charts figures."""
