"""End-to-end helpers and the `server` fixture (re-exported by conftest.py): a real `kiln serve` (TLS, self-signed certificate, API keys) with its
worker on the tiny model, driven through the real fal_client."""
from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
KILN = Path(os.environ.get("KILN", ROOT / ".build" / "debug" / "kiln"))
APP = "fal-ai/ltx23-video-trainer"
WORKER_ARGS = ["--model", "tiny", "--device", "cpu", "--validation-steps", "2", "--checkpoint-interval", "20",
               "--lease-seconds", "10", "--allow-private-urls"]


def run(*args: str, **kwargs) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kwargs).stdout


@dataclass
class Server:
    url: str
    host: str
    data: Path
    cert: Path
    keys: list[str]
    processes: list[subprocess.Popen]
    log: Path

    def client(self, key_index: int = 0):
        import fal_client

        return fal_client.SyncClient(key=self.keys[key_index])

    def headers(self, key_index: int = 0) -> dict[str, str]:
        return {"Authorization": f"Key {self.keys[key_index]}"}

    def upload(self, path: Path, key_index: int = 0, content_type: str = "application/zip") -> str:
        response = httpx.post(f"{self.url}/files", content=path.read_bytes(), timeout=60,
                              headers={**self.headers(key_index), "X-File-Name": path.name, "Content-Type": content_type},
                              verify=ssl.create_default_context(cafile=str(self.cert)))
        response.raise_for_status()
        return response.json()["url"]

    def download(self, url: str, key_index: int = 0) -> bytes:
        response = httpx.get(url, headers=self.headers(key_index), timeout=60, verify=ssl.create_default_context(cafile=str(self.cert)))
        response.raise_for_status()
        return response.content

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _wait_for_listening(process: subprocess.Popen, out: Path, log: Path) -> str:
    for _ in range(600):
        text = out.read_text() if out.exists() else ""
        for line in text.splitlines():
            if line.startswith("Kiln listening on "):
                return line.removeprefix("Kiln listening on ").strip()
        if process.poll() is not None:
            raise RuntimeError(f"kiln serve exited early: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError("kiln serve did not report its address")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    if not KILN.exists():
        pytest.fail(f"{KILN} is missing; run `swift build` (or `make setup`) first")
    work = tmp_path_factory.mktemp("kiln-e2e")
    data = work / "data"
    cert, key = work / "cert.pem", work / "key.pem"
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert))
    keys = [run(str(KILN), "keys", "create", "--data-dir", str(data), "--name", f"e2e-{i}").strip().splitlines()[0]
            for i in range(2)]
    out, log = work / "serve.out", work / "serve.log"
    serve = [str(KILN), "serve", "--port", "0", "--data-dir", str(data), "--tls-cert", str(cert), "--tls-key", str(key)]
    processes = [subprocess.Popen(serve + WORKER_ARGS, stdout=out.open("w"), stderr=log.open("w"), start_new_session=True)]
    url = _wait_for_listening(processes[0], out, log)
    host = url.removeprefix("https://")
    import fal_client.client as fal_module

    # Other suites in the same pytest run point fal_client at their own server: put theirs back after.
    saved = (os.environ.get("SSL_CERT_FILE"), fal_module.QUEUE_URL_FORMAT, fal_module.RUN_URL_FORMAT)
    os.environ["SSL_CERT_FILE"] = str(cert)
    fal_module.QUEUE_URL_FORMAT = f"https://{host}/"
    fal_module.RUN_URL_FORMAT = f"https://{host}/run/"
    try:
        yield Server(url=url, host=host, data=data, cert=cert, keys=keys, processes=processes, log=log)
    finally:
        if saved[0] is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = saved[0]
        fal_module.QUEUE_URL_FORMAT, fal_module.RUN_URL_FORMAT = saved[1], saved[2]
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


# --- sample data -------------------------------------------------------------------------------

def ffmpeg(*args: str) -> None:
    run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args)


def video_zip(folder: Path, clips: int = 2, seconds: float = 1.0) -> Path:
    media = Path(tempfile.mkdtemp(dir=folder))
    sources = ["testsrc2", "smptebars", "rgbtestsrc", "testsrc"]
    for i in range(clips):
        ffmpeg("-f", "lavfi", "-i", f"{sources[i % 4]}=size=256x256:rate=25:duration={seconds}",
               "-f", "lavfi", "-i", f"sine=frequency={330 + 110 * i}:sample_rate=44100:duration={seconds}",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-shortest", str(media / f"clip{i}.mp4"))
        (media / f"clip{i}.txt").write_text(f"a {sources[i % 4]} test pattern with a steady tone")
    return _zip(media, folder / f"videos-{media.name}.zip")


def image_zip(folder: Path, images: int = 3) -> Path:
    media = Path(tempfile.mkdtemp(dir=folder))
    sources = ["testsrc2", "smptebars", "rgbtestsrc"]
    for i in range(images):
        ffmpeg("-f", "lavfi", "-i", f"{sources[i % 3]}=size=300x200", "-frames:v", "1", str(media / f"image{i}.png"))
        (media / f"image{i}.txt").write_text(f"a still {sources[i % 3]} test card")
    return _zip(media, folder / f"images-{media.name}.zip")


def png(folder: Path, name: str = "first_frame.png") -> Path:
    path = folder / name
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=256x256", "-frames:v", "1", str(path))
    return path


def _zip(media: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(media.iterdir()):
            archive.write(file, file.name)
    shutil.rmtree(media)
    return target


def tiny_arguments(url: str, **overrides) -> dict:
    """The smallest request the API accepts, at the tiny model's speed."""
    arguments = {"training_data_url": url, "number_of_steps": 100, "rank": 8, "resolution": "low", "number_of_frames": 9,
                 "validation_resolution": "low", "validation_number_of_frames": 9}
    arguments.update(overrides)
    return arguments


def wait_done(handle, timeout: float = 300, with_logs: bool = True) -> list[dict]:
    """Follows a request through fal_client until COMPLETED; returns every log entry seen."""
    import fal_client

    logs: list[dict] = []
    start = time.monotonic()
    for event in handle.iter_events(with_logs=with_logs, interval=0.3):
        logs = list(getattr(event, "logs", None) or logs)
        if isinstance(event, fal_client.Completed):
            return logs
        if time.monotonic() - start > timeout:
            raise AssertionError(f"request {handle.request_id} did not finish in {timeout} s; last logs: {logs[-10:]}")
    return logs
