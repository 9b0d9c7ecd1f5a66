"""Pages of the partner dashboard and the CSV exports."""
