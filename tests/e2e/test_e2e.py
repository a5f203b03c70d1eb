"""Kiln end to end: a real `kiln serve` socket (TLS), its worker on the tiny model, the real fal_client."""
from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
from pathlib import Path

import httpx
import pytest

# fal_client is imported inside the tests: it reads FAL_QUEUE_RUN_HOST once, at import, and another
# suite in the same run (tests/fal_client) sets that variable when pytest configures it.
from e2e_support import APP, Server, image_zip, png, tiny_arguments, video_zip, wait_done


def test_video_job_outputs_isolation_and_webhook(server: Server, tmp_path: Path) -> None:
    """One full video job: live stage logs, the four outputs, another key sees nothing of it, and its
    webhook is retried until the (first failing) receiver accepts it."""
    import fal_client

    receiver = http.server.HTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        client, other = server.client(0), server.client(1)
        url = server.upload(video_zip(tmp_path), key_index=0)
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        handle = client.submit(APP, webhook_url=hook, arguments=tiny_arguments(
            url, debug_dataset=True, trigger_phrase="KILNE2E", validation=[{"prompt": "KILNE2E a test pattern"}]))

        # Another key: the job does not exist for it, and it cannot train on the first key's upload.
        with pytest.raises(fal_client.client.FalClientHTTPError) as hidden:
            other.status(APP, handle.request_id)
        assert hidden.value.status_code == 404
        # To the other key that URL is just a foreign link: the job is accepted but cannot read the file.
        foreign = other.submit(APP, arguments=tiny_arguments(url))

        logs = wait_done(handle)
        messages = [entry["message"] for entry in logs]
        assert any(m.startswith("step 100/100") and "loss" in m and "ETA" in m for m in messages), messages[-20:]
        for stage in ("fetching", "preparing_dataset", "encoding", "training", "validating", "exporting"):
            assert f"stage: {stage}" in messages, (stage, messages)

        status = client.status(APP, handle.request_id, with_logs=False)
        assert isinstance(status, fal_client.Completed)
        assert status.metrics.get("inference_time", 0) > 0

        result = handle.get()
        expected = {"lora_file": "application/octet-stream", "config_file": "application/json", "video": "video/mp4",
                    "debug_dataset": "application/zip"}
        for key, content_type in expected.items():
            file = result[key]
            assert file["content_type"] == content_type
            body = server.download(file["url"])
            assert len(body) == file["file_size"] > 0, key
        assert server.download(result["video"]["url"])[4:8] == b"ftyp"
        assert json.loads(server.download(result["config_file"]["url"]))
        response = httpx.get(result["lora_file"]["url"], headers=server.headers(1), verify=ssl.create_default_context(cafile=str(server.cert)))
        assert response.status_code == 404

        wait_done(foreign)
        with pytest.raises(fal_client.client.FalClientHTTPError) as refused:
            foreign.get()
        assert refused.value.status_code == 400, str(refused.value)

        deadline = time.monotonic() + 60
        while FlakyReceiver.answers[-1:] != [200]:
            assert time.monotonic() < deadline, FlakyReceiver.answers
            time.sleep(0.2)
        body = FlakyReceiver.received[-1]
        assert body["request_id"] == body["gateway_request_id"] == handle.request_id
        assert body["status"] == "OK" and body["error"] is None
        assert body["payload"]["lora_file"]["url"] == result["lora_file"]["url"]
        assert FlakyReceiver.answers[:2] == [500, 200]
        messages = [entry["message"] for entry in client.status(APP, handle.request_id, with_logs=True).logs]
        assert any("failed on attempt 1" in m for m in messages), messages[-10:]
        assert any("delivered" in m and "attempt 2" in m for m in messages), messages[-10:]
    finally:
        receiver.shutdown()


def test_image_dataset_with_image_to_video_validation(server: Server, tmp_path: Path) -> None:
    import fal_client

    client = server.client()
    url = server.upload(image_zip(tmp_path))
    image_url = server.upload(png(tmp_path), content_type="image/png")
    handle = client.submit(APP, arguments=tiny_arguments(url, validation=[{"prompt": "a test card comes alive", "image_url": image_url}]))
    logs = wait_done(handle)
    result = handle.get()
    assert result["video"]["file_size"] > 0, [entry["message"] for entry in logs][-20:]
    assert result["debug_dataset"] is None
    assert any("image" in entry["message"] for entry in logs)


def test_failed_job_error_reaches_the_client(server: Server, tmp_path: Path) -> None:
    import fal_client

    junk = tmp_path / "no-media.zip"
    import zipfile

    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("readme.txt", "no videos here")
    client = server.client()
    handle = client.submit(APP, arguments=tiny_arguments(server.upload(junk)))
    wait_done(handle)
    with pytest.raises(fal_client.client.FalClientHTTPError) as failure:
        handle.get()
    assert failure.value.status_code == 400
    assert "no video" in str(failure.value)


def test_cancel_while_training(server: Server, tmp_path: Path) -> None:
    import fal_client

    client = server.client()
    handle = client.submit(APP, arguments=tiny_arguments(server.upload(video_zip(tmp_path)), number_of_steps=5000))
    deadline = time.monotonic() + 180
    while True:
        status = client.status(APP, handle.request_id, with_logs=True)
        messages = [entry["message"] for entry in (getattr(status, "logs", None) or [])]
        if any(m.startswith("step ") for m in messages):
            break
        assert not isinstance(status, fal_client.Completed), messages
        assert time.monotonic() < deadline, messages[-10:]
        time.sleep(0.3)
    handle.cancel()
    logs = wait_done(handle, timeout=120)
    with pytest.raises(fal_client.client.FalClientHTTPError) as failure:
        handle.get()
    assert "cancelled" in str(failure.value)
    assert any("cancelled" in entry["message"] for entry in logs)
    assert not (server.data / "jobs" / handle.request_id).exists(), "the cancelled job's files were not removed"


class FlakyReceiver(http.server.BaseHTTPRequestHandler):
    """Answers 500 to the first webhook, 200 afterwards, and keeps what it got."""

    received: list[dict] = []
    answers: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        code = 500 if not FlakyReceiver.answers else 200
        FlakyReceiver.answers.append(code)
        FlakyReceiver.received.append(body)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


