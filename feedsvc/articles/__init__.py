"""Article files in, Article out: text format, front matter, images, folder."""
