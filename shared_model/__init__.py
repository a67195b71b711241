"""The one trained model every deployment serves, and the one contract they all enforce."""
