"""Kurator's data converter: pydantic payloads, sealed per family, failures included."""

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from infra.sealing.codec import FamilyPayloadCodec, KeySource


def sealing_data_converter(keys: KeySource) -> DataConverter:
    """Payloads as pydantic JSON, each sealed with its family's key. A failure's message and
    stack trace move into its encoded attributes (sealed like any payload), so a rejected
    update's reason is not stored in clear; the history shows "Encoded failure"."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=FamilyPayloadCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
