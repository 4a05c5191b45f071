"""Run the feedsvc command line: python -m feedsvc."""

from feedsvc.cli import main

main()
