"""Every payload inside a Temporal message, wherever it lies: what the proof that a history is
sealed walks (tests), and what a codec server or an audit can use to visit each payload of a
history without a list of event types that would go stale as Temporal adds fields."""

from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload


def payloads_of(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Each `Payload` in `message` (a history, an event, a description...), depth first, with
    its path, e.g. `events[3].workflow_execution_started_event_attributes.input.payloads[0]`
    or `...memo.fields[note]`. Search attributes are payloads too: the caller decides which
    paths must be sealed."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        entry = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or entry is None:
            continue
        where = f"{path}.{field.name}" if path else field.name
        if entry.GetOptions().map_entry:
            value_field = entry.fields_by_name["value"]
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    yield from payloads_of(item, f"{where}[{key}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                yield from payloads_of(item, f"{where}[{index}]")
        else:
            yield from payloads_of(value, where)
