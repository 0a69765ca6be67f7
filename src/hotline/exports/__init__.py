"""Exports (issue 21, item 5): any list or report as XLSX or CSV, written off the event loop in
constant memory, run as a job with progress and a download link, audited and masked."""
