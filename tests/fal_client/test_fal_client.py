"""The official fal_client, unchanged, against a real `kiln serve` (see conftest.py)."""

from __future__ import annotations

import threading

import fal_client
import pytest

APP = "fal-ai/ltx23-video-trainer"
REQUEST = {"training_data_url": "https://example.com/clips.zip", "number_of_steps": 100}


def test_urls_point_at_kiln() -> None:
    import os

    assert fal_client.client.QUEUE_URL_FORMAT == f"https://{os.environ['FAL_QUEUE_RUN_HOST']}/"


def test_submit_then_status_with_logs_and_queue_position() -> None:
    first = fal_client.submit(APP, REQUEST)
    second = fal_client.submit(APP, REQUEST)
    assert first.request_id != second.request_id
    assert first.status_url.startswith("https://127.0.0.1:")

    status = second.status(with_logs=True)
    assert isinstance(status, fal_client.Queued)
    position = status.position
    assert position >= 1

    # The module-level helpers rebuild the URLs from the request id alone.
    again = fal_client.status(APP, second.request_id, with_logs=True)
    assert isinstance(again, fal_client.Queued)
    assert again.position == position

    first.cancel()
    after = second.status()
    assert isinstance(after, fal_client.Queued)
    assert after.position == position - 1
    second.cancel()


def test_cancel_then_iter_events_and_result() -> None:
    handle = fal_client.submit(APP, REQUEST)
    handle.cancel()
    events = list(handle.iter_events(with_logs=True, interval=0.05))
    assert len(events) == 1
    done = events[0]
    assert isinstance(done, fal_client.Completed)
    assert done.error == "cancelled by the user"
    assert done.logs is not None
    assert any("cancelled" in line["message"] for line in done.logs)

    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        handle.get()
    assert caught.value.status_code == 400
    assert "cancelled by the user" in str(caught.value)
    with pytest.raises(fal_client.FalClientHTTPError) as again:
        fal_client.result(APP, handle.request_id)
    assert again.value.error_type == "cancelled"

    # Cancelling a finished job is ALREADY_COMPLETED (400).
    with pytest.raises(fal_client.FalClientHTTPError) as twice:
        fal_client.cancel(APP, handle.request_id)
    assert twice.value.status_code == 400


def test_stream_yields_status_events_until_completed() -> None:
    events: list[dict] = []
    cancelled = threading.Event()

    for event in fal_client.stream(APP, REQUEST):
        events.append(event)
        if event["status"] == "IN_QUEUE" and not cancelled.is_set():
            cancelled.set()
            # From another client call, as a user pressing "stop" would.
            fal_client.cancel(APP, event["request_id"])
    assert events[0]["status"] == "IN_QUEUE"
    assert events[-1]["status"] == "COMPLETED"
    assert events[-1]["error"] == "cancelled by the user"


def test_validation_error_names_the_field() -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client.submit(APP, {"training_data_url": "https://example.com/a.zip", "rank": 7, "number_of_frames": 10})
    error = caught.value
    assert error.status_code == 422
    assert "rank" in str(error)
    assert "number_of_frames" in str(error)
    fields = {entry["loc"][1] for entry in error.message}
    assert fields == {"rank", "number_of_frames"}


def test_run_host_validation_error() -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client.run(APP, {"rank": 16})
    assert caught.value.status_code == 422
    assert "training_data_url" in str(caught.value)
