"""Jobs: one at a time, from the selection (or given text) to the delivered, checked result."""
