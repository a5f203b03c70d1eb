"""Kiln's training engine: encode, train, validate and export LTX-2.3 LoRAs."""
