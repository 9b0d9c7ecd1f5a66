"""Ticket pages: the end-user portal (`portal`) and the technicians' board (`board`)."""
