"""Follow from the fediverse: the site and each section as ActivityPub actors.

Framework-free. `documents` and `objects` turn the catalog into ActivityStreams JSON (pure,
deterministic); `signatures` signs and checks HTTP Signatures (draft-cavage, as Mastodon uses);
`addresses` decides where a request to another server may go (the SSRF guard) and `remote`
sends it within one deadline; `signers` finds and proves the key an inbox POST was signed with;
`inbox` decides what a POST to the inbox does, and `backlog` runs what it must wait on
other servers for (key fetches) off the serving path; `store` is the SQLite file beside the catalog
holding followers, cached keys, signatures seen and the durable delivery queue; `delivery` is
the worker (in the writer process) that turns catalog changes into signed deliveries.
"""
