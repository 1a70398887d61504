"""Long, self-contained blocks of `betthat.settings`, each built from values settings.py reads
from the environment (no setting is declared here)."""
