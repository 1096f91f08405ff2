"""Reading inputs: path expansion, archives, bounded batches, source sniffing."""
