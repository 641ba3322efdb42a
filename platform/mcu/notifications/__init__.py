"""Notifications: the in-app inbox and e-mail through an outbox with retries."""
