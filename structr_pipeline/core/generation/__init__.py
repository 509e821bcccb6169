"""LLM-written product copy: chat providers, prompts and the generation of copy fields."""
