"""The queries on the tables several parts use, one module per concern.

Where a query lives: a query on a table that several parts use lives in `bot/store/<concern>.py`
(people, reports, totals, inbound, units, ...); a table owned by one module (proofs and presence
parts: bot/presence; unit targets: bot/targets; privacy notices: bot/privacy; outbox, leases and
job runs: bot/delivery; provider messages and media files: bot/channels/whatsapp) keeps its
queries in that module. Every insert that must work on both databases goes through
`bot/store/insert.py`. Handlers, digests and channels call these functions; they write no SQL of
their own.
"""
