"""optlib: the companion library of optbook."""
