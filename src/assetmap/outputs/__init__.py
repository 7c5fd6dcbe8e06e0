"""Outputs: maps, print maps, reports and exports, from the scored frames' documented columns."""
