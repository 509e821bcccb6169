"""The LLM provider as a Dagster resource, configured from the environment."""

from __future__ import annotations

import dagster as dg

from structr_pipeline.core.generation.providers import (
    ChatProvider,
    OfflineProvider,
    OpenAICompatibleProvider,
)


class LLMResource(dg.ConfigurableResource):
    """Which model writes product copy.

    ``provider`` is ``offline`` (template-based copy composed from the product's own
    attributes, no network: the default) or ``openai`` (any OpenAI-compatible
    chat-completions endpoint: OpenAI, Ollama's ``/v1``, vLLM, llama.cpp's server).
    Set through ``STRUCTR_LLM_PROVIDER``, ``STRUCTR_LLM_BASE_URL``, ``STRUCTR_LLM_MODEL``
    and ``STRUCTR_LLM_API_KEY``; the key is read through ``EnvVar`` and never logged.
    """

    provider: str = "offline"
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    max_in_flight: int = 8
    timeout_seconds: float = 60.0
    max_attempts: int = 5

    def build(self) -> ChatProvider:
        """A fresh provider client for one run (the caller closes it)."""
        if self.provider == "offline":
            return OfflineProvider()
        if self.provider == "openai":
            return OpenAICompatibleProvider(
                self.base_url,
                self.model,
                self.api_key or None,
                timeout=self.timeout_seconds,
                max_attempts=self.max_attempts,
                max_in_flight=self.max_in_flight,
            )
        raise ValueError(f"STRUCTR_LLM_PROVIDER is {self.provider!r}; use 'offline' or 'openai'")
