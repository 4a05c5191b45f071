"""Static export: every URL requested from the app, written to files."""
