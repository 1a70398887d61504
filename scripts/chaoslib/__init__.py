"""The pieces of `make chaos` (scripts/chaos.py runs them): config, processes, clients,
load, world."""
