"""Training speed levers (issue 7), each behind a `spec.speed` flag with a safe default.

`settings` parses the flags, `fused_lora` applies LoRA without peft's per-call casts,
`checkpointing` checkpoints every k-th block, `compile` compiles blocks without per-index
recompiles, `memory` estimates a job's GPU memory and picks settings that fit, and `apply`
installs the chosen levers on a LoRA-injected model (and takes them off again).
"""
