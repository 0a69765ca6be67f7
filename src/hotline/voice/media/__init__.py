"""Media: G.711, tones and prompts."""
