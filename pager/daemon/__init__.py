"""The asyncio shell: the composition root, transactions, inputs, deadlines and the outbox."""
