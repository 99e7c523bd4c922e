"""Fieldbot: daily counts, field-presence proofs and rollups for district health campaigns."""
