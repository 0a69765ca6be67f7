"""The contact layer: IVR flows, queues and the ACD, agent presence, live calls and their controls,
the call and agent event log, callbacks and the wallboard (docs/routing.md)."""
