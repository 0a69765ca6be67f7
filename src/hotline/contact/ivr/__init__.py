"""IVR flows: the flow model, the interpreter that runs a flow on a call, and flow versions."""
