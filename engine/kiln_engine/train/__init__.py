"""LoRA training of the LTX-2.3 transformer: objective, LoRA, schedule, checkpoints, loop."""
