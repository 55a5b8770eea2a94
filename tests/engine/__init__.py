"""Engine tests: properties, exact rule boundaries, rule liveness, SQL parity."""
