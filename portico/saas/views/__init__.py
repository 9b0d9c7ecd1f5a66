"""Pages of the partner portal's SaaS backup service: organizations, accounts, log in as client."""
