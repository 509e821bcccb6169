"""How the sensors automate, as a Dagster resource: retries, the webhook queue, the inbox."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from structr_pipeline.settings import QueuePolicy, RetryPolicy, StructrSettings


class AutomationPolicyResource(dg.ConfigurableResource):
    """What the reprocessing, webhook-queue and inbox sensors go by.

    ``reprocess_max_attempts`` and ``reprocess_backoff_seconds``
    (``STRUCTR_REPROCESS_MAX_ATTEMPTS``, ``STRUCTR_REPROCESS_BACKOFF_SECONDS``) bound the
    reprocessing of a batch; ``queue_max_events`` and ``queue_max_wait_seconds``
    (``STRUCTR_QUEUE_MAX_EVENTS``, ``STRUCTR_QUEUE_MAX_WAIT_SECONDS``) say when pending
    webhook deliveries become a batch; ``inbox_dir`` is the folder the inbox sensor watches
    (``STRUCTR_INBOX_DIR``, by default ``STRUCTR_HOME/inbox``); ``contentful_pim_source``
    names the PIM source that maps Contentful entries (``STRUCTR_CONTENTFUL_PIM_SOURCE``).
    """

    reprocess_max_attempts: int = RetryPolicy.max_attempts
    reprocess_backoff_seconds: float = RetryPolicy.backoff_seconds
    queue_max_events: int = QueuePolicy.max_events
    queue_max_wait_seconds: float = QueuePolicy.max_wait_seconds
    inbox_dir: str
    contentful_pim_source: str | None = None

    @classmethod
    def from_settings(cls, settings: StructrSettings) -> AutomationPolicyResource:
        """Build the resource from resolved settings."""
        return cls(
            reprocess_max_attempts=settings.retry.max_attempts,
            reprocess_backoff_seconds=settings.retry.backoff_seconds,
            queue_max_events=settings.queue.max_events,
            queue_max_wait_seconds=settings.queue.max_wait_seconds,
            inbox_dir=str(settings.inbox),
            contentful_pim_source=settings.contentful_pim_source,
        )

    @property
    def retry(self) -> RetryPolicy:
        """How often and how far apart a batch is reprocessed."""
        return RetryPolicy(self.reprocess_max_attempts, self.reprocess_backoff_seconds)

    @property
    def queue(self) -> QueuePolicy:
        """When pending webhook deliveries become a batch."""
        return QueuePolicy(self.queue_max_events, self.queue_max_wait_seconds)

    @property
    def inbox(self) -> Path:
        """The folder the inbox sensor watches."""
        return Path(self.inbox_dir)
