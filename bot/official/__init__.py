"""The official portal's counts: the district office's release, read, checked and kept per day."""
