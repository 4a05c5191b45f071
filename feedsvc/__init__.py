"""feedsvc: publish a folder of plain-text articles as feeds and HTML permalinks."""
