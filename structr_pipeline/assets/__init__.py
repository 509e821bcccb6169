"""The asset graph of one import batch, one module per stage."""
