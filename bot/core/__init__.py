"""The core: one message in, replies out. It knows no channel and no chat library."""
