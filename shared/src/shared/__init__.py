"""Code every Quotient service shares: settings, events, bus, database, HTTP errors, auth."""
