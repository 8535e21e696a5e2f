"""The data floor: loading, checking and writing the workbench's tables (below model and analysis)."""
