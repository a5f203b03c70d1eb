"""The client half of `make demo`: trains a LoRA on a running `kiln serve` through the real fal_client.

It uploads the sample zip with `POST /files`, submits the job with `fal_client.submit` (the queue
host comes from FAL_QUEUE_RUN_HOST, TLS trust from SSL_CERT_FILE, the key from FAL_KEY), prints
status and logs live, then downloads every output file into --out and prints their paths.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

APP = "fal-ai/ltx23-video-trainer"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zip", required=True, type=Path, help="dataset zip to upload")
    parser.add_argument("--out", required=True, type=Path, help="folder for the downloaded outputs")
    parser.add_argument("--steps", type=int, default=100, help="number_of_steps (fal minimum 100)")
    parser.add_argument("--timeout", type=float, default=540, help="seconds to wait for the job")
    return parser.parse_args(argv)


def server_base() -> str:
    host = os.environ.get("FAL_QUEUE_RUN_HOST")
    if not host:
        sys.exit("demo_client: set FAL_QUEUE_RUN_HOST to the kiln server's host:port")
    return f"https://{host}"


def auth_headers() -> dict[str, str]:
    key = os.environ.get("FAL_KEY")
    return {"Authorization": f"Key {key}"} if key else {}


def upload(zip_path: Path) -> str:
    """`POST /files` with the raw bytes; answers a fal File object whose url the job can use."""
    with zip_path.open("rb") as body:
        response = httpx.post(
            f"{server_base()}/files",
            content=body.read(),
            headers={**auth_headers(), "X-File-Name": zip_path.name, "Content-Type": "application/zip"},
            timeout=120,
        )
    response.raise_for_status()
    return response.json()["url"]


def download(file: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / file["file_name"]
    with httpx.stream("GET", file["url"], headers=auth_headers(), timeout=120) as response:
        response.raise_for_status()
        with target.open("wb") as sink:
            for chunk in response.iter_bytes():
                sink.write(chunk)
    if target.stat().st_size != file["file_size"]:
        raise SystemExit(f"demo_client: {target} has {target.stat().st_size} bytes, the server said {file['file_size']}")
    return target


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import fal_client  # after the environment is checked: fal_client reads FAL_QUEUE_RUN_HOST at import

    started = time.monotonic()
    url = upload(args.zip)
    print(f"uploaded {args.zip.name} -> {url}", flush=True)
    arguments = {
        "training_data_url": url,
        "number_of_steps": args.steps,
        "rank": 8,
        "resolution": "low",
        "aspect_ratio": "1:1",
        "number_of_frames": 9,
        "frame_rate": 25,
        "trigger_phrase": "KILNDEMO",
        "debug_dataset": True,
        "validation": [{"prompt": "KILNDEMO a colourful test pattern with a steady tone"}],
        "validation_resolution": "low",
        "validation_number_of_frames": 9,
    }
    handle = fal_client.submit(APP, arguments=arguments)
    print(f"submitted request {handle.request_id}", flush=True)

    printed = 0
    last_status = None
    for event in handle.iter_events(with_logs=True, interval=0.5):
        name = type(event).__name__
        if isinstance(event, fal_client.Queued):
            label = f"IN_QUEUE (position {event.position})"
        else:
            label = "IN_PROGRESS" if isinstance(event, fal_client.InProgress) else "COMPLETED"
        if label != last_status:
            print(f"[{time.monotonic() - started:6.1f}s] status {label}", flush=True)
            last_status = label
        logs = getattr(event, "logs", None) or []
        for entry in logs[printed:]:
            print(f"    {entry.get('timestamp', '')[11:19]} {entry.get('message', '')}", flush=True)
        printed = max(printed, len(logs))
        if time.monotonic() - started > args.timeout:
            handle.cancel()
            raise SystemExit(f"demo_client: the job took longer than {args.timeout:.0f} s; cancelled it")
        if name == "Completed" and getattr(event, "metrics", None):
            print(f"    metrics: {event.metrics}", flush=True)

    result = handle.get()
    print("outputs:", flush=True)
    for key in ("lora_file", "config_file", "video", "debug_dataset"):
        file = result.get(key)
        if not file:
            raise SystemExit(f"demo_client: the result has no {key}: {result}")
        path = download(file, args.out)
        print(f"  {key:14} {path} ({path.stat().st_size} bytes, {file['content_type']})", flush=True)
    print(f"done in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
