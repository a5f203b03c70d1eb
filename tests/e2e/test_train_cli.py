"""`kiln train` under a pseudo-terminal: the live progress bar, Ctrl-C, and resuming with the same --out."""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

from e2e_support import KILN, video_zip

ARGS = ["--model", "tiny", "--device", "cpu", "--number-of-steps", "100", "--rank", "8", "--resolution", "low",
        "--number-of-frames", "9", "--checkpoint-interval", "10", "--validation-steps", "2",
        "--validation-prompt", "a test pattern", "--validation-resolution", "low", "--validation-number-of-frames", "9"]


def spawn_on_pty(arguments: list[str]) -> tuple[subprocess.Popen, int]:
    """Starts kiln with its stdin/stdout/stderr on a new pseudo-terminal; returns it and the master fd."""
    master, slave = pty.openpty()
    process = subprocess.Popen([str(KILN), *arguments], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    return process, master


def read_until(process: subprocess.Popen, master: int, pattern: str, timeout: float, sink: list[str]) -> re.Match | None:
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return None
            if not chunk:
                return None
            sink.append(chunk.decode(errors="replace"))
            if match := regex.search("".join(sink)):
                return match
        elif process.poll() is not None:
            return None
    return None


def drain(process: subprocess.Popen, master: int, sink: list[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if chunk:
                sink.append(chunk.decode(errors="replace"))
                continue
        if process.poll() is not None:
            return process.returncode
    process.kill()
    raise AssertionError("kiln train did not exit; output:\n" + "".join(sink)[-3000:])


def test_progress_bar_interrupt_and_resume(tmp_path: Path) -> None:
    data = video_zip(tmp_path)
    out = tmp_path / "run"
    first, master = spawn_on_pty(["train", str(data), "--out", str(out), *ARGS])
    output: list[str] = []
    # The bar: stage name, a bar of blocks, step/total, loss and ETA, redrawn in place with \r.
    match = read_until(first, master, r"\r\x1b\[2Ktraining\s+\[[█░]+\] (\d+)/100\s+loss \d+\.\d+(\s+ETA \S+)?", 240, output)
    assert match, "no progress bar:\n" + "".join(output)[-3000:]
    assert read_until(first, master, r"\] (1[5-9]|[2-9]\d)/100", 120, output), "training did not advance:\n" + "".join(output)[-2000:]
    first.send_signal(signal.SIGINT)
    code = drain(first, master, output, 120)
    text = "".join(output)
    assert code == 130, text[-3000:]
    assert "interrupted" in text and "to resume" in text, text[-2000:]
    assert not (out / "lora_weights.safetensors").exists()

    second, master = spawn_on_pty(["train", str(data), "--out", str(out), *ARGS])
    output = []
    code = drain(second, master, output, 400)
    text = "".join(output)
    assert code == 0, text[-3000:]
    assert "resuming the interrupted run" in text
    assert "resuming training from" in text
    assert re.search(r"\] 100/100", text)
    for name in ("lora_weights.safetensors", "config.json", "validation.mp4"):
        assert (out / name).stat().st_size > 0, name
        assert name in text


def test_plain_lines_without_a_terminal_and_a_failure_named(tmp_path: Path) -> None:
    junk = tmp_path / "no-media.zip"
    import zipfile

    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("notes.txt", "no videos here")
    result = subprocess.run([str(KILN), "train", str(junk), "--out", str(tmp_path / "plain"), *ARGS],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "\r" not in result.stderr and "█" not in result.stderr
    assert "stage: fetching" in result.stderr and result.stderr.count("stage") == 1, result.stderr
    assert "no video" in result.stderr


def test_bad_option_names_the_field(tmp_path: Path) -> None:
    data = video_zip(tmp_path)
    result = subprocess.run([str(KILN), "train", str(data), "--out", str(tmp_path / "bad"), "--rank", "7",
                             "--number-of-frames", "10"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--rank" in result.stderr and "--number-of-frames" in result.stderr
    assert not (tmp_path / "bad" / "lora_weights.safetensors").exists()
