"""Roster import: CSV or XLSX, every row checked before anything is written, upsert by id or phone."""
