"""What ``fdrbench results init-repo`` writes into a new results repository."""
