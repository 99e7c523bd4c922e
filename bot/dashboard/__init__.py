"""The officers' dashboard: the campaign in the browser, with the same figures and scope as chat."""
