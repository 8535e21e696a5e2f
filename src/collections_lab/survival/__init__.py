"""Time-to-payment survival toolkit (placeholder exports; see the modules)."""
