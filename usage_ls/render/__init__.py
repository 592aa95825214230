"""Rendering: turns query results into what people see. Never touches the store."""
