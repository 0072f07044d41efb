"""Mock interviews: selection, key-point matching, the flow, the report."""
