"""Public participation: polls, votes, discussions, hearings."""
