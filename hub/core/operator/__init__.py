"""What operators do: dead-letter replay and discard, four-eyes approvals, held links."""
