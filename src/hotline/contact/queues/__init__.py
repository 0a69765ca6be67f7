"""Queues: the ACD decision, the runner that rings agents for waiting callers, queue settings."""
