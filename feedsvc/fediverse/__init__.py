"""Follow from the fediverse: the site and each section as ActivityPub actors.

Framework-free. `documents` and `objects` turn the catalog into ActivityStreams JSON (pure,
deterministic); `signatures` signs and checks HTTP Signatures (draft-cavage, as Mastodon uses);
`remote` fetches from other servers behind an SSRF guard; `inbox` decides what a POST to the
inbox does; `store` is the SQLite file beside the catalog holding followers, cached keys and the
durable delivery queue; `delivery` is the worker (in the writer process) that turns catalog
changes into signed deliveries.
"""
