"""Measure the throughput of LLM copy generation (``write_copy``) against a fake model server.

A real HTTP server on 127.0.0.1 (background thread) speaks the OpenAI chat-completions
shape at ``/v1/chat/completions``: it waits a fixed latency, then answers with valid copy
JSON composed by ``compose_offline_copy`` from the product facts in the request. Run 1
writes copy for N synthetic products through ``OpenAICompatibleProvider`` with K requests
in flight and is timed against the ideal ``N / K * latency``; run 2 repeats the call with
the cache filled from run 1 and must not reach the server at all.

    python benchmarks/llm_throughput.py [--products 1000] [--in-flight 32] [--latency 0.3]
    python benchmarks/llm_throughput.py --offline 100000

Prints one line:

    products=<n> in_flight=<k> latency_s=<l> ideal_s=<i> wall_s=<w> ratio=<w/i> second_run_calls=<c>

and exits 1 when the ratio is above 1.15, run 2 made any call or a product failed
(failures go to stderr). ``--offline N`` runs ``OfflineProvider`` on N products, no server:

    offline products=<n> wall_s=<w> products_per_s=<r>
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from structr_pipeline.core.generation.prompts import BrandVoice, load_prompt
from structr_pipeline.core.generation.providers import (
    OfflineProvider,
    OpenAICompatibleProvider,
    compose_offline_copy,
)
from structr_pipeline.core.generation.writer import CopyResult, write_copy

MAX_RATIO = 1.15
MODEL = "bench-model"

# --------------------------------------------------------------------------- fake server


class FakeChatServer(ThreadingHTTPServer):
    """A chat-completions server answering every request after ``latency`` seconds."""

    daemon_threads = True
    request_queue_size = 1024  # the listen() backlog: many connections may arrive at once

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.latency = latency
        # Shared with the server's own process (see run_server).
        self._served = multiprocessing.Value("i", 0)

    @property
    def served(self) -> int:
        """Chat-completion requests answered so far."""
        with self._served.get_lock():
            return self._served.value

    def count(self) -> None:
        with self._served.get_lock():
            self._served.value += 1

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"


class _ChatHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, so the client's pool reuses them (HTTP/1.0 would
    # close each one and make every request pay a new TCP handshake).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answer at once, not after the client's delayed ACK
    server: FakeChatServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            request = json.loads(raw)
            content = next(
                m["content"] for m in reversed(request["messages"]) if m.get("role") == "user"
            )
            facts = json.loads(content)
        except (ValueError, KeyError, TypeError, StopIteration) as exc:
            self._send(400, {"error": {"message": f"bad request: {exc}"}})
            return
        time.sleep(self.server.latency)
        text = json.dumps(compose_offline_copy(facts), ensure_ascii=False)
        self.server.count()
        self._send(
            200,
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", MODEL),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(raw) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": len(raw) // 4 + len(text) // 4,
                },
            },
        )


# --------------------------------------------------------------------------- products

_VENDORS = (
    "Northwind Outfitters", "Alder & Pine", "Copperleaf Home", "Lumen Audio", "Saltmarsh Supply",
    "Fjord Kitchenware", "Bramble Kids", "Atlas Trail Co.", "Maison Lune", "Ridgeway Tools",
)  # fmt: skip
_COLORS = (
    "Black", "White", "Navy", "Olive", "Sand", "Charcoal", "Rust", "Sage", "Sky Blue", "Oat",
)  # fmt: skip
_SIZES = ("XS", "S", "M", "L", "XL", "XXL")

# product_type: (category, title nouns, materials, extra option (name, values) or None)
_KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, tuple[str, ...]]]] = {
    "T-Shirt": (
        "Apparel & Accessories > Clothing > Shirts & Tops",
        ("Crew Tee", "Pocket Tee", "Everyday T-Shirt", "Slub Tee"),
        ("cotton", "linen"),
        ("Size", _SIZES),
    ),
    "Hoodie": (
        "Apparel & Accessories > Clothing > Outerwear",
        ("Pullover Hoodie", "Zip Hoodie", "Heavyweight Hoodie"),
        ("cotton", "fleece"),
        ("Size", _SIZES),
    ),
    "Mug": (
        "Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
        ("Stoneware Mug", "Camp Mug", "Espresso Cup", "Latte Mug"),
        ("stoneware", "ceramic"),
        ("Capacity", ("8 oz", "12 oz", "16 oz")),
    ),
    "Backpack": (
        "Luggage & Bags > Backpacks",
        ("Daypack", "Roll-Top Backpack", "Commuter Pack", "Trail Pack"),
        ("canvas", "nylon"),
        ("Volume", ("18 L", "24 L", "30 L")),
    ),
    "Headphones": (
        "Electronics > Audio > Audio Components > Headphones & Headsets",
        ("Wireless Headphones", "Studio Headphones", "Travel Earbuds"),
        ("aluminium", "plastic"),
        ("Finish", ("Matte", "Gloss")),
    ),
    "Candle": (
        "Home & Garden > Decor > Home Fragrances > Candles",
        ("Scented Candle", "Travel Tin Candle", "Pillar Candle"),
        ("soy wax", "beeswax"),
        ("Scent", ("Cedar", "Fig", "Sea Salt", "Lavender", "Amber")),
    ),
    "Knife": (
        "Home & Garden > Kitchen & Dining > Kitchen Tools & Utensils > Kitchen Knives",
        ("Chef's Knife", "Paring Knife", "Bread Knife", "Santoku Knife"),
        ("stainless steel", "carbon steel"),
        ("Blade Length", ("8 cm", "15 cm", "20 cm")),
    ),
    "Blanket": (
        "Home & Garden > Linens & Bedding > Bedding > Blankets",
        ("Throw Blanket", "Waffle Blanket", "Picnic Blanket"),
        ("wool", "cotton"),
        ("Size", ("Throw", "Queen", "King")),
    ),
}
_ADJECTIVES = ("Classic", "Essential", "Coastal", "Heritage", "Alpine", "Urban", "Field", "Nordic")
_USES = (
    "everyday use",
    "weekends away",
    "the daily commute",
    "slow mornings at home",
    "gifting",
    "small spaces",
)


def make_products(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` synthetic product records, the same for the same ``seed``."""
    rng = random.Random(seed)
    kinds = list(_KINDS)
    products = []
    for i in range(count):
        product_type = rng.choice(kinds)
        category, nouns, materials, (option_name, option_values) = _KINDS[product_type]
        vendor = rng.choice(_VENDORS)
        material = rng.choice(materials)
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(nouns)}"
        colors = rng.sample(_COLORS, rng.randint(1, 4))
        values = list(option_values[: rng.randint(1, len(option_values))])
        handle = f"{title.lower().replace(' ', '-').replace(chr(39), '')}-{i:06d}"
        description_html = (
            f"<p>The {title} from {vendor} is made of {material} and designed for "
            f"{rng.choice(_USES)}. It comes in {len(colors)} "
            f"colour{'s' if len(colors) > 1 else ''}.</p>"
            f"<ul><li>Material: {material}</li><li>Colours: {', '.join(colors)}</li>"
            f"<li>{option_name}: {', '.join(values)}</li></ul>"
        )
        images = [
            {
                "src": f"https://cdn.example.com/products/{handle}/{n + 1}.jpg",
                "alt": f"{title} in {color}" if rng.random() < 0.8 else "",
            }
            for n, color in enumerate(colors[: rng.randint(1, 3)])
        ]
        products.append(
            {
                "handle": handle,
                "title": title,
                "vendor": vendor,
                "product_type": product_type,
                "category": category,
                "tags": ", ".join([product_type.lower(), material, *rng.sample(_COLORS, 2)]),
                "description_html": description_html,
                "options": [
                    {"name": "Color", "values": colors},
                    {"name": option_name, "values": values},
                ],
                "price": round(rng.uniform(8, 240), 2),
                "currency": "EUR",
                "images": images,
            }
        )
    return products


# --------------------------------------------------------------------------- runs


def _failures(results: list[CopyResult]) -> list[CopyResult]:
    return [r for r in results if r.status not in ("generated", "cached")]


def run_server(n: int, in_flight: int, latency: float, seed: int) -> int:
    """Runs 1 and 2 against the fake server; prints the result line, returns the exit code."""
    products = make_products(n, seed)
    template, voice = load_prompt(), BrandVoice()
    store: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}

    def cached(keys: list[str]) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
        return {key: store[key] for key in keys if key in store}

    server = FakeChatServer(latency)
    # The server runs in a process of its own (forked with its listening socket), so
    # composing its answers never competes with the client for the interpreter lock.
    process = multiprocessing.get_context("fork").Process(target=server.serve_forever, daemon=True)
    process.start()
    try:
        provider = OpenAICompatibleProvider(server.base_url, MODEL, max_in_flight=in_flight)
        start = time.perf_counter()
        first = write_copy(products, provider, template, voice, cached)
        wall = time.perf_counter() - start
        first_calls = server.served
        for result in first:
            if result.status == "generated" and result.copy is not None:
                store[result.cache_key] = (result.copy, result.flags)

        provider = OpenAICompatibleProvider(server.base_url, MODEL, max_in_flight=in_flight)
        second = write_copy(products, provider, template, voice, cached)
        second_calls = server.served - first_calls
    finally:
        process.terminate()
        process.join()
        server.server_close()

    ideal = n / in_flight * latency
    ratio = wall / ideal if ideal else float("inf")
    print(
        f"products={n} in_flight={in_flight} latency_s={latency:.3f} ideal_s={ideal:.3f} "
        f"wall_s={wall:.3f} ratio={ratio:.3f} second_run_calls={second_calls}"
    )
    failed = _failures(first) + _failures(second)
    for result in failed:
        print(f"failed {result.handle}: {result.status} {result.error}", file=sys.stderr)
    if first_calls != n:
        print(f"note: run 1 made {first_calls} requests for {n} products", file=sys.stderr)
    return 1 if ratio > MAX_RATIO or second_calls != 0 or failed else 0


def run_offline(n: int, seed: int) -> int:
    """``OfflineProvider`` on ``n`` products; prints the result line, returns the exit code."""
    products = make_products(n, seed)
    start = time.perf_counter()
    results = write_copy(products, OfflineProvider(), load_prompt(), BrandVoice(), lambda k: {})
    wall = time.perf_counter() - start
    print(f"offline products={n} wall_s={wall:.3f} products_per_s={n / wall:.3f}")
    failed = _failures(results)
    for result in failed:
        print(f"failed {result.handle}: {result.status} {result.error}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1000, help="products (default 1000)")
    parser.add_argument("--in-flight", type=int, default=32, help="max requests in flight")
    parser.add_argument("--latency", type=float, default=0.3, help="server latency, seconds")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic products")
    parser.add_argument(
        "--offline", type=int, metavar="N", help="run OfflineProvider on N products instead"
    )
    args = parser.parse_args(argv)
    if args.offline is not None:
        return run_offline(args.offline, args.seed)
    return run_server(args.products, args.in_flight, args.latency, args.seed)


if __name__ == "__main__":
    sys.exit(main())
