"""The escalation state machine (SPEC section 5): state, deadlines and transitions."""
