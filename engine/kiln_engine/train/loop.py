"""The training loop: batch of 1, AdamW, schedule, clipping, autocast, checkpoints, SIGTERM.

Kept lean for speed: inputs are prepared on the device before the loop, noise comes from a
device generator, and the loss is read back (a host sync) only when a progress event is due.
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ..dist import DistInfo, any_rank
from ..errors import BadCheckpoint, Interrupted
from ..events import EventSink
from .batch import TrainItem
from .checkpointing import TrainingState, load_checkpoint, save_checkpoint
from .fingerprint import differences
from .lora import lora_state_dict
from .objective import StepDraws, compute_loss
from .schedule import make_scheduler
from .timesteps import sample_sigma


@dataclass
class TrainConfig:
    """Loop settings (from the spec)."""

    steps: int
    learning_rate: float
    first_frame_p: float
    seed: int
    checkpoint_interval: int
    progress_interval: int
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    weight_decay: float = 0.01
    timestep_sampling: str = "shifted_logit_normal"
    fingerprint: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    """What the loop leaves behind."""

    step: int
    last_loss: float | None
    checkpoint: Path | None


class StopFlag:
    """Set by the SIGTERM handler; the loop finishes its step, saves and stops."""

    def __init__(self) -> None:
        self.requested = False

    def request(self, *_: Any) -> None:
        """Signal-handler compatible setter."""
        self.requested = True


class Trainer:
    """Runs `steps` optimiser steps of LoRA training on prepared items."""

    def __init__(self, model: torch.nn.Module, items: list[TrainItem], config: TrainConfig, device: torch.device,
                 checkpoint_dir: Path, events: EventSink, dist: DistInfo, stop: StopFlag | None = None,
                 autocast_dtype: torch.dtype | None = None) -> None:
        self.model = model
        self.items = items
        self.config = config
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.events = events
        self.dist = dist
        self.stop = stop or StopFlag()
        self.autocast_dtype = autocast_dtype
        self.params = [p for p in model.parameters() if p.requires_grad]
        fused = device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.params, lr=config.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                                           weight_decay=config.weight_decay, fused=fused, foreach=None if fused else True)
        self.scheduler = make_scheduler(self.optimizer, config.steps, config.warmup_steps)
        # One CPU generator for the step's scalar draws, one on the device for noise; both per rank.
        self.cpu_gen = torch.Generator().manual_seed(config.seed * 1000 + dist.rank)
        self.noise_gen = torch.Generator(device=device).manual_seed(config.seed * 1000 + 7 + dist.rank)
        self.step = 0
        self._order: list[int] = []
        self._order_epoch = -1

    # -- state -------------------------------------------------------------------------------

    def _rng_states(self) -> list[dict[str, torch.Tensor]]:
        """Every rank's generator states (a collective under DDP: all ranks call it at the same step)."""
        local = {"cpu": self.cpu_gen.get_state(), "noise": self.noise_gen.get_state()}
        if not self.dist.enabled:
            return [local]
        gathered: list[Any] = [None] * self.dist.world_size
        torch.distributed.all_gather_object(gathered, local)
        return gathered

    def _state(self, rng: list[dict[str, torch.Tensor]]) -> TrainingState:
        return TrainingState(
            step=self.step,
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            rng={"per_rank": rng},
            fingerprint=self.config.fingerprint,
        )

    def resume(self, path: Path) -> None:
        """Continue from a checkpoint: LoRA weights, optimiser, scheduler, RNG and step."""
        lora, state = load_checkpoint(path)
        diff = differences(state.fingerprint, self.config.fingerprint)
        if diff:
            raise BadCheckpoint(f"checkpoint {path} was made with different settings ({', '.join(diff)}); start without resume_from")
        named = {k: p for k, p in lora_state_dict(self.model).items()}
        missing = set(named) - set(lora)
        if missing:
            raise BadCheckpoint(f"checkpoint {path} lacks LoRA weights for {len(missing)} modules, e.g. {sorted(missing)[0]}")
        with torch.no_grad():
            for k, p in named.items():
                p.copy_(lora[k].to(device=p.device, dtype=p.dtype))
        self.optimizer.load_state_dict(state.optimizer)
        self.scheduler.load_state_dict(state.scheduler)
        mine = state.rng["per_rank"][self.dist.rank]
        self.cpu_gen.set_state(mine["cpu"])
        self.noise_gen.set_state(mine["noise"].cpu())
        self.step = state.step

    def save(self) -> Path:
        """Write a checkpoint of the current step (rank 0 writes; every rank must call it) and report it."""
        path = self.checkpoint_dir / f"step_{self.step:06d}"
        rng = self._rng_states()
        if self.dist.is_main:
            path = save_checkpoint(self.checkpoint_dir, self.step, lora_state_dict(self.model), self._state(rng))
            self.events.checkpoint(self.step, str(path))
        return path

    # -- steps ---------------------------------------------------------------------------------

    def _item_for(self, step: int) -> TrainItem:
        # Stateless order: epoch e uses a fixed permutation, so resuming needs no saved position.
        n = len(self.items)
        slot = step * self.dist.world_size + self.dist.rank
        epoch, index = divmod(slot, n)
        if self._order_epoch != epoch:
            self._order = torch.randperm(n, generator=torch.Generator().manual_seed(self.config.seed + 7919 * epoch)).tolist()
            self._order_epoch = epoch
        item = self.items[self._order[index]]
        if item.video_tokens.device != self.device:  # host-resident dataset: copy this step's item over
            item = item.to(self.device, non_blocking=True)
        return item

    def _draws(self, item: TrainItem) -> StepDraws:
        sigma = sample_sigma(self.config.timestep_sampling, 1, item.video_tokens.shape[1], self.cpu_gen)
        condition = bool(torch.rand(1, generator=self.cpu_gen).item() < self.config.first_frame_p)
        vnoise = torch.randn(item.video_tokens.shape, generator=self.noise_gen, device=self.device, dtype=item.video_tokens.dtype)
        anoise = None
        if item.audio_tokens is not None:
            anoise = torch.randn(item.audio_tokens.shape, generator=self.noise_gen, device=self.device, dtype=item.audio_tokens.dtype)
        return StepDraws(sigma=sigma, video_noise=vnoise, audio_noise=anoise, condition_first_frame=condition)

    def train_step(self) -> torch.Tensor:
        """One optimiser step; returns the loss tensor (not synced)."""
        item = self._item_for(self.step)
        draws = self._draws(item)
        ctx = torch.autocast(self.device.type, dtype=self.autocast_dtype) if self.autocast_dtype is not None else nullcontext()
        with ctx:
            loss = compute_loss(self.model, item, draws)
        loss.total.backward()
        if self.config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.config.max_grad_norm, foreach=True)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return loss.total.detach()

    def run(self, on_step: Callable[[int, float], None] | None = None) -> TrainResult:
        """Train until `steps`, saving every `checkpoint_interval` and on SIGTERM (then raising `Interrupted`).

        A progress event is emitted one step late: its loss is read back after the next step
        has been queued, so the host sync never leaves the GPU idle.
        """
        cfg = self.config
        self.model.train()
        last_ckpt: Path | None = None
        loss_sum = torch.zeros((), device=self.device)
        window = 0
        t_window = time.perf_counter()
        pending: tuple[int, torch.Tensor, float, float] | None = None
        last_loss: float | None = None

        def flush() -> None:
            nonlocal pending, last_loss
            if pending is None:
                return
            step, loss_t, seconds, lr = pending
            pending = None
            if self.dist.enabled:  # report the mean over ranks (every rank flushes at the same steps)
                loss_t = loss_t.clone()
                torch.distributed.all_reduce(loss_t)
                loss_t = loss_t / self.dist.world_size
            last_loss = float(loss_t.item())
            if not math.isfinite(last_loss):
                self.events.log(f"loss is {last_loss} at step {step}; lower learning_rate", level="warning")
            self.events.progress("training", step, cfg.steps, loss=last_loss, lr=lr, seconds_per_step=seconds,
                                 eta_seconds=seconds * (cfg.steps - step))
            if on_step is not None:
                on_step(step, last_loss)

        # Under DDP the stop flag is agreed on with a collective (a host sync), so only every few steps.
        stop_check_every = 1 if not self.dist.enabled else 5
        while self.step < cfg.steps:
            loss = self.train_step()
            flush()
            loss_sum += loss.float()
            window += 1
            if self.step % cfg.progress_interval == 0 or self.step == cfg.steps:
                now = time.perf_counter()
                pending = (self.step, loss_sum / window, (now - t_window) / window, self.scheduler.get_last_lr()[0])
                loss_sum = torch.zeros((), device=self.device)
                window = 0
                t_window = now
            stop = False
            if self.step % stop_check_every == 0:  # every rank reaches the collective at the same steps
                stop = any_rank(self.stop.requested, self.dist, self.device)
            due = cfg.checkpoint_interval > 0 and self.step % cfg.checkpoint_interval == 0 and self.step < cfg.steps
            if due or stop:
                flush()
                last_ckpt = self.save()
            if stop:
                raise Interrupted(f"stopped by SIGTERM after step {self.step} of {cfg.steps}; checkpoint {last_ckpt} resumes it")
        flush()
        return TrainResult(step=self.step, last_loss=last_loss, checkpoint=last_ckpt)
