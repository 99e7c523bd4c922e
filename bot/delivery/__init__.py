"""Delivery: the outbox, its sender within each channel's limits, the leases for one sender."""
