"""Sums, who reported, targets, pace, rankings and the export table, for any unit and range of days."""
