"""Stage 7: policy — verdict rules and organisation policies that gate CI."""
