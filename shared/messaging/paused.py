"""Partitions a consumer has stopped at an event it could not apply yet, each waiting out its own backoff."""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError

from shared.metrics import CONSUMER_PAUSED_PARTITIONS

log = structlog.get_logger(__name__)


@dataclass
class _Pause:
    resume_at: float
    backoff_s: float


class PausedPartitions:
    """Seek a partition back to the event that failed, pause it, resume it when its backoff is over.

    The backoff doubles on each stall of the same partition up to `max_backoff_s` and starts again from
    `first_backoff_s` once the partition commits. Pausing keeps the consumer polling (and so in its group)
    and the other partitions flowing; a partition taken away by a rebalance is simply forgotten: its next
    owner starts from the committed offset, which never passes the failed event.
    """

    def __init__(self, consumer: AIOKafkaConsumer, service: str, first_backoff_s: float, max_backoff_s: float) -> None:
        self._consumer = consumer
        self._service = service
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._paused: dict[TopicPartition, _Pause] = {}
        self._backoff: dict[TopicPartition, float] = {}

    def stall(self, tp: TopicPartition, offset: int) -> None:
        backoff = min(self._backoff.get(tp, self._first_backoff_s / 2) * 2, self._max_backoff_s)
        self._backoff[tp] = backoff
        try:
            self._consumer.seek(tp, offset)
            self._consumer.pause(tp)
        except (IllegalStateError, KeyError):
            self._forget(tp)  # no longer ours after a rebalance
            return
        self._paused[tp] = _Pause(time.monotonic() + backoff, backoff)
        CONSUMER_PAUSED_PARTITIONS.labels(self._service).set(len(self._paused))
        log.info("consumer.partition_paused", topic=tp.topic, partition=tp.partition, offset=offset, retry_in_s=backoff)

    def recovered(self, tp: TopicPartition) -> None:
        self._backoff.pop(tp, None)

    def resume_due(self) -> None:
        now = time.monotonic()
        assigned = self._consumer.assignment()
        for tp, pause in list(self._paused.items()):
            if tp not in assigned:
                self._forget(tp)
            elif pause.resume_at <= now:
                self._consumer.resume(tp)
                del self._paused[tp]
        CONSUMER_PAUSED_PARTITIONS.labels(self._service).set(len(self._paused))

    def poll_timeout_ms(self, idle_ms: int) -> int:
        """Poll no longer than until the next paused partition is due."""
        if not self._paused:
            return idle_ms
        due_in = min(p.resume_at for p in self._paused.values()) - time.monotonic()
        return max(1, min(idle_ms, int(due_in * 1000) + 1))

    def clear(self) -> None:
        self._paused.clear()
        self._backoff.clear()
        CONSUMER_PAUSED_PARTITIONS.labels(self._service).set(0)

    def _forget(self, tp: TopicPartition) -> None:
        self._paused.pop(tp, None)
        self._backoff.pop(tp, None)
