"""A real chat-completions server on 127.0.0.1 for tests of the LLM stages."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from structr_pipeline.core.generation.providers import compose_offline_copy

Answer = Callable[[dict, int], tuple[int, dict, dict]]


def facts_of(request: dict) -> dict:
    """The product facts a request carries (the last user message is their JSON)."""
    return json.loads(request["messages"][-1]["content"])


def completion(content: str) -> dict:
    return {
        "model": "shop-writer",
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80},
    }


def good(request: dict, n: int) -> tuple[int, dict, dict]:
    """A model that writes correct copy from the facts it was given."""
    return 200, completion(json.dumps(compose_offline_copy(facts_of(request)))), {}


class ChatServer:
    """A real HTTP server speaking the chat-completions shape; ``answer`` decides each reply."""

    def __init__(self) -> None:
        self.answer: Answer = good
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        chat = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with chat.lock:
                    chat.requests.append(body)
                    n = len(chat.requests)
                status, payload, headers = chat.answer(body, n)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
