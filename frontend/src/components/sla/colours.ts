// The SLA outcomes' colours, shared by the rows' bars (style.css classes) and the chart.
export const OUTCOME_COLOURS = {
  met: '#67c23a',
  breached: '#f56c6c',
  open_overdue: '#b42318',
  open_in_time: '#a0cfff',
} as const
