"""The one settings table: names, parsers, defaults -> typed Settings."""
