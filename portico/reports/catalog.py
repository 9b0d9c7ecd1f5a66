"""The export kinds of the partner portal's own lists: organizations and accounts (CSV-1)."""
