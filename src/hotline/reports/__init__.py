"""Reports (统计分析): each report's figures come from its own domain's service; this domain
composes them over one period model (core/periods.py), applies the team filter and answers one shape."""
