"""Sources: whatever writes batches into the landing zone (the demo data generator, imports)."""
