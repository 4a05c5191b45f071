"""Catalog records to bytes, no Flask: feeds, cards, icons, oEmbed, OPML."""
