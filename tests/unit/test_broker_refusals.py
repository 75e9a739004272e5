"""Which publish failures may park an outbox event (the broker refuses the event) and which only wait."""

from __future__ import annotations

import pytest
from aiokafka import errors

from shared.messaging.relay import refused_by_broker


@pytest.mark.parametrize("exc", [
    errors.MessageSizeTooLargeError("The message is 1200758 bytes"),
    errors.RecordTooLargeError(),
    errors.InvalidTopicError(),
    errors.PolicyViolationError(),
    errors.TopicAuthorizationFailedError(),
    UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed"),
])
def test_refusals_of_the_event_itself(exc):
    assert refused_by_broker(exc)


@pytest.mark.parametrize("exc", [
    errors.KafkaConnectionError("connection refused"),
    errors.KafkaTimeoutError(),  # the batch expired waiting for a broker
    errors.RequestTimedOutError(),
    errors.NotLeaderForPartitionError(),
    errors.UnknownTopicOrPartitionError(),  # after a dev-broker restart, until topics are recreated
    errors.NodeNotReadyError(),
    ConnectionResetError(104, "reset by peer"),
    TimeoutError(),
])
def test_broker_trouble_never_parks(exc):
    assert not refused_by_broker(exc)
