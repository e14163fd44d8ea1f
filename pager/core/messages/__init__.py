"""What pager says: message kinds and their SMS, email and voice text."""
