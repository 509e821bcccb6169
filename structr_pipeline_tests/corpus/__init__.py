"""The hostile corpus: generated input files, each with the outcome a merchant expects."""
