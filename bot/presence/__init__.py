"""Field-presence proofs: the checks, pairing a photo with a location, and the proofs table."""
