"""The chat providers: the offline template, and the OpenAI-compatible client against a
real HTTP server on 127.0.0.1 that imitates ``/v1/chat/completions`` with scripted answers."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from structr_pipeline.core.generation.providers import (
    ChatProvider,
    Completion,
    OfflineProvider,
    OpenAICompatibleProvider,
    ProviderError,
    Usage,
    estimate_cost,
    trim_words,
)
from structr_pipeline.core.http_retry import retry_after_seconds as _retry_after_seconds

API_KEY = "sk-test-S3CRET-key-0123456789"
CONTENT = '{"seo_title": "Merino Crew"}'


def ok_body(content: str = CONTENT, usage: dict | None = None) -> dict:
    """A chat completion as an OpenAI-compatible server sends it."""
    body: dict = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


@dataclass
class Step:
    """One scripted answer: status, body (dict → JSON, str → raw), headers, delay first."""

    status: int = 200
    body: dict | str = field(default_factory=lambda: ok_body(usage={"prompt_tokens": 3}))
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeServer:
    """A threaded HTTP server answering each request with the next scripted step.

    The last step repeats once the script runs out. Records each request's headers and
    JSON body, and the most requests it ever saw in flight at once.
    """

    def __init__(self) -> None:
        self.script: list[Step] = [Step()]
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with server.lock:
                    server.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)}
                    )
                    step = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if step.delay:
                        server.stop.wait(step.delay)
                    body = step.body if isinstance(step.body, str) else json.dumps(step.body)
                    if "{auth}" in body:  # a server that echoes the credentials back
                        body = body.replace("{auth}", self.headers.get("Authorization", ""))
                    data = body.encode()
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    with server.lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A fresh fake server on a free port of 127.0.0.1."""
    with FakeServer() as fake:
        yield fake


def provider(server: FakeServer, **kwargs) -> OpenAICompatibleProvider:
    """A client of ``server`` with small, fast backoff values unless told otherwise."""
    options: dict = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 5.0}
    options.update(kwargs)
    return OpenAICompatibleProvider(server.base_url, "test-model", **options)


MESSAGES = [
    {"role": "system", "content": "You write product copy as JSON."},
    {"role": "user", "content": '{"title": "Merino Crew"}'},
]


async def complete_once(client: OpenAICompatibleProvider) -> Completion:
    """One completion, the client closed afterwards."""
    try:
        return await client.complete(MESSAGES)
    finally:
        await client.aclose()


def failure(client: OpenAICompatibleProvider) -> ProviderError:
    """The ProviderError a single completion raises."""
    with pytest.raises(ProviderError) as info:
        asyncio.run(complete_once(client))
    return info.value


# --------------------------------------------------------------------------- OpenAI-compatible


def test_normal_answer_with_usage(server: FakeServer) -> None:
    server.script = [Step(body=ok_body(usage={"prompt_tokens": 12, "completion_tokens": 34}))]
    client = provider(server)
    assert isinstance(client, ChatProvider)
    result = asyncio.run(complete_once(client))
    assert result == Completion(text=CONTENT, usage=Usage(12, 34), model="test-model")
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"] == {
        "model": "test-model",
        "messages": MESSAGES,
        "response_format": {"type": "json_object"},
        "temperature": 0.2,
    }
    assert "Authorization" not in request["headers"]  # no key, no header


def test_missing_usage_counts_zero(server: FakeServer) -> None:
    server.script = [Step(body=ok_body())]
    assert asyncio.run(complete_once(provider(server))).usage == Usage(0, 0)


def test_429_waits_for_retry_after(server: FakeServer) -> None:
    server.script = [
        Step(status=429, body={"error": "slow down"}, headers={"Retry-After": "1"}),
        Step(),
    ]
    client = provider(server, backoff_max=5.0)
    started = time.monotonic()
    result = asyncio.run(complete_once(client))
    assert time.monotonic() - started >= 0.95
    assert len(server.requests) == 2
    assert result.text == CONTENT


def test_retry_after_is_capped_by_backoff_max(server: FakeServer) -> None:
    server.script = [Step(status=429, body="busy", headers={"Retry-After": "30"}), Step()]
    started = time.monotonic()
    asyncio.run(complete_once(provider(server, backoff_max=0.1)))
    assert time.monotonic() - started < 2
    assert len(server.requests) == 2


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = time.time()
    assert _retry_after_seconds("2") == 2.0
    assert _retry_after_seconds("-3") == 0.0
    assert _retry_after_seconds(email.utils.formatdate(now + 10, usegmt=True), now=now) == (
        pytest.approx(10, abs=1)
    )
    assert _retry_after_seconds(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert _retry_after_seconds("soon") is None
    assert _retry_after_seconds(None) is None


def test_5xx_are_retried(server: FakeServer) -> None:
    server.script = [Step(status=500, body="oops"), Step(status=503, body="down"), Step()]
    result = asyncio.run(complete_once(provider(server)))
    assert result.text == CONTENT
    assert len(server.requests) == 3


def test_400_is_not_retried(server: FakeServer) -> None:
    server.script = [Step(status=400, body={"error": {"message": "bad response_format"}})]
    error = failure(provider(server))
    assert len(server.requests) == 1
    assert not error.retryable
    assert error.status == 400
    assert "400" in str(error)
    assert "bad response_format" in str(error)
    assert "1 attempt" in str(error)


def test_timeout_is_retried(server: FakeServer) -> None:
    server.script = [Step(delay=2.0), Step()]
    started = time.monotonic()
    result = asyncio.run(complete_once(provider(server, timeout=0.3)))
    assert result.text == CONTENT
    assert len(server.requests) == 2
    assert time.monotonic() - started < 1.5


def test_attempts_exhausted_is_retryable(server: FakeServer) -> None:
    server.script = [Step(status=503, body="still down")]
    error = failure(provider(server, max_attempts=3))
    assert len(server.requests) == 3
    assert error.retryable
    assert error.attempts == 3
    assert "3 attempts" in str(error)
    assert "503" in str(error)


def test_connection_error_is_retried_then_raised() -> None:
    with FakeServer() as gone:
        base_url = gone.base_url  # a port nobody listens on once the server is closed
    client = OpenAICompatibleProvider(base_url, "m", max_attempts=2, backoff_base=0.01)
    error = failure(client)
    assert error.retryable
    assert "2 attempts" in str(error)
    assert "connection error" in str(error)


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("this is not json", "not JSON"),
        ({"object": "chat.completion", "choices": []}, "no choices"),
        ({"choices": [{"message": {"role": "assistant"}}]}, "content"),
    ],
)
def test_malformed_body_is_not_retried(server: FakeServer, body: dict | str, missing: str) -> None:
    server.script = [Step(body=body)]
    error = failure(provider(server))
    assert len(server.requests) == 1
    assert not error.retryable
    assert missing in str(error)


def test_api_key_is_sent_and_never_shown(server: FakeServer) -> None:
    server.script = [Step()]
    client = provider(server, api_key=API_KEY)
    asyncio.run(complete_once(client))
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in repr(client)

    messages = []
    for script in (
        [Step(status=401, body='{"error": "invalid key {auth}"}')],
        [Step(status=500, body="upstream rejected {auth}")],
        [Step(body="not json, got {auth}")],
    ):
        server.script = script
        error = failure(provider(server, api_key=API_KEY, max_attempts=2))
        messages.append(str(error))
    assert len(messages) == 3
    for message in messages:
        assert API_KEY not in message
        assert "***" in message  # the echoed key was masked


def test_api_key_absent_from_retry_logs(server: FakeServer, caplog) -> None:
    server.script = [Step(status=502, body="bad gateway {auth}"), Step()]
    with caplog.at_level("WARNING"):
        asyncio.run(complete_once(provider(server, api_key=API_KEY)))
    assert "502" in caplog.text
    assert API_KEY not in caplog.text


def test_max_in_flight_bounds_concurrency(server: FakeServer) -> None:
    server.script = [Step(delay=0.15)]
    client = provider(server, max_in_flight=2)

    async def run() -> list[Completion]:
        try:
            return await asyncio.gather(*(client.complete(MESSAGES) for _ in range(6)))
        finally:
            await client.aclose()

    results = asyncio.run(run())
    assert len(results) == 6
    assert len(server.requests) == 6
    assert server.max_in_flight == 2


def test_provider_survives_a_new_event_loop(server: FakeServer) -> None:
    client = provider(server)
    asyncio.run(client.complete(MESSAGES))
    asyncio.run(complete_once(client))  # a second asyncio.run: a fresh client, no stale pool
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- costs


def test_estimate_cost() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000)
    assert estimate_cost(usage, "gpt-4o-mini") == pytest.approx(0.15 + 0.30)
    assert estimate_cost(usage, "gpt-4o-mini-2024-07-18") == estimate_cost(usage, "gpt-4o-mini")
    assert estimate_cost(usage, "gpt-4o") == pytest.approx(2.5 + 5.0)
    assert estimate_cost(usage, "llama3.1:8b") is None
    assert estimate_cost(usage, "offline-template-v1") is None
    assert Usage(1, 2) + Usage(3, 4) == Usage(4, 6)


# --------------------------------------------------------------------------- offline

FACTS = {
    "title": "Merino Wool Crew Neck Sweater for Everyday Layering in Cold Alpine Weather Days",
    "vendor": "Northfold",
    "product_type": "Sweater",
    "category": "Apparel > Tops > Sweaters",
    "tags": ["wool", "winter"],
    "description_text": "A soft crew neck sweater knitted from merino wool. Ribbed cuffs and hem. "
    "Machine washable at 30 degrees.",
    "options": [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Color", "values": ["Navy"]}],
    "price": "89.00",
    "currency": "EUR",
    "images": [
        {"src": "https://cdn.example.com/1.jpg", "alt": "Navy sweater, front"},
        {"src": "https://cdn.example.com/2.jpg", "alt": ""},
    ],
    "brand_voice": {"tone": "calm", "avoid": ["amazing"]},
}


def offline_copy(facts: dict) -> tuple[Completion, dict]:
    """The offline provider's completion for ``facts`` and its parsed JSON."""
    messages = [
        {"role": "system", "content": "Write copy."},
        {"role": "user", "content": "an earlier message, not the facts"},
        {"role": "user", "content": json.dumps(facts)},
    ]
    completion = asyncio.run(OfflineProvider().complete(messages))
    return completion, json.loads(completion.text)


def all_text(copy: dict) -> str:
    """Every string of the copy, joined."""
    return " ".join(
        [copy["seo_title"], copy["title"], copy["description_html"], copy["meta_description"]]
        + copy["bullets"]
        + copy["image_alt"]
    )


def test_offline_is_deterministic_and_free() -> None:
    first, copy = offline_copy(FACTS)
    second, _ = offline_copy(FACTS)
    assert first == second
    assert first.usage == Usage(0, 0)
    assert first.model == "offline-template-v1"
    assert isinstance(OfflineProvider(), ChatProvider)
    assert set(copy) == {
        "seo_title",
        "title",
        "description_html",
        "bullets",
        "meta_description",
        "image_alt",
    }


def test_offline_respects_limits_at_word_boundaries() -> None:
    _, copy = offline_copy(FACTS)
    assert len(copy["seo_title"]) <= 60
    assert len(copy["title"]) <= 70
    assert len(copy["meta_description"]) <= 160
    assert 3 <= len(copy["bullets"]) <= 5
    title_words = FACTS["title"].split()
    for trimmed in (copy["title"], copy["seo_title"]):
        words = trimmed.split()
        assert words == title_words[: len(words)]  # whole words, no word cut in half
    assert re.fullmatch(r"<p>[^<]+</p><ul>(<li>[^<]+</li>){3,5}</ul>", copy["description_html"])
    assert trim_words("Merino Wool Crew", 10) == "Merino"
    assert trim_words("Supercalifragilistic", 5) == "Super"


def test_offline_uses_only_facts() -> None:
    _, copy = offline_copy(FACTS)
    text = all_text(copy)
    facts_text = json.dumps(FACTS)
    assert set(re.findall(r"\d", text)) <= set(re.findall(r"\d", facts_text))
    assert not set(re.findall(r"\d+", text)) - set(re.findall(r"\d+", facts_text))
    assert "89" not in text  # the price stays out of the copy
    assert "amazing" not in text.lower()
    assert "Size: S, M, L" in copy["bullets"]
    assert "Brand: Northfold" in copy["bullets"]


def test_offline_one_alt_text_per_image_in_order() -> None:
    _, copy = offline_copy(FACTS)
    assert len(copy["image_alt"]) == 2
    assert copy["image_alt"][0] == "Navy sweater, front"
    assert copy["image_alt"][1]  # no alt given: falls back to the title
    assert all(len(alt) <= 125 for alt in copy["image_alt"])
    _, bare = offline_copy({"title": "Mug"})
    assert bare["image_alt"] == []
    assert 3 <= len(bare["bullets"]) <= 5


def test_offline_drops_avoided_phrases() -> None:
    facts = dict(FACTS, description_text="An amazing sweater. Knitted from merino wool.")
    _, copy = offline_copy(facts)
    assert "amazing" not in all_text(copy).lower()
    assert "Knitted from merino wool." in copy["description_html"]


def test_offline_rejects_messages_without_facts() -> None:
    with pytest.raises(ProviderError) as info:
        asyncio.run(OfflineProvider().complete([{"role": "user", "content": "hello"}]))
    assert not info.value.retryable
