"""The running processes: the writer, its supervisor, the production server."""
