"""The ground floor: argument checks, seeds, devices and memory, atomic files, SIGINT handling.

Nothing here imports another genlab package; everything else may import it.
"""
