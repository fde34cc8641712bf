"""Bus events: the envelope, the topics and the payload schemas (a discriminated union)."""

from shared.events.envelope import (
    ActivityRecorded,
    CommissionComputed,
    Event,
    PersonErased,
    ProgressUpdated,
    ScoreComputed,
    decode_event,
    encode_event,
    new_event,
)
from shared.events.topics import Topic

__all__ = [
    "ActivityRecorded",
    "CommissionComputed",
    "Event",
    "PersonErased",
    "ProgressUpdated",
    "ScoreComputed",
    "Topic",
    "decode_event",
    "encode_event",
    "new_event",
]
