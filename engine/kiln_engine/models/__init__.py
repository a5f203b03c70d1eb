"""Model sources: the real LTX-2.3 checkpoint folder and the built-in tiny test model."""
