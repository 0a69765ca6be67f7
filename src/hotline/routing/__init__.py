"""Contact routing: IVR flows, queues and ACD, agent presence, the call and agent event log."""
