// A call flow's definition as the editor and the tree read it (the server validates it).
export type FlowNode = { type: string; label?: string; [key: string]: unknown }
export type Definition = { name: string; title?: string; start: string; nodes: Record<string, FlowNode> }
