"""Subscriber statistics from access logs, keeping no one's address.

Framework-free. `lines` turns a line of feedsvc's log, nginx's combined log, a CloudFront
standard log or an S3 server access log into a request; `sources` reads files (plain, gzipped,
standard input); `agents` says who a User-Agent is (a web reader saying its subscribers, a
WebSub hub, a reader app, a crawler, a browser, a monitor); `tally` counts per day and feed with
a salted daily hash in place of addresses; `followers` reads the federation store;
`report` makes the estimate; `chart` draws it (SVG, one HTML page).
"""
