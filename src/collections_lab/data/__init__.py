"""The data floor: schema, loading, validation, parsing, dates and the portfolio container."""
