"""Rules as data and pure functions: legal bases, the number policy, retention, erasure of bodies."""
