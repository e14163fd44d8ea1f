"""The outbox: claim, limit, bundle, send, retry, fall back, recover."""
