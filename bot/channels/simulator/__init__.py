"""The chat simulator: a web page that talks to the bot as any person on the roster."""
