"""Depths 1 to 4: contract, syntax, rule behaviour in virtual time, routing. No cluster needed."""
