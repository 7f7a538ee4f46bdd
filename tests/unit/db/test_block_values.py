"""Reading the blocks of a day: each value of the ``data`` column, as read through ADBC,
becomes a buffer of exactly its bytes, whatever the column's chunks and offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from streamsettle.db import log_blocks

VALUES = [b"", b"a", b"block two", bytes(range(256)), b"\x00" * 7, b"last"]


@pytest.mark.parametrize("binary", [pa.binary(), pa.large_binary()])
def test_every_value_is_its_own_bytes(binary: pa.DataType) -> None:
    whole = pa.array(VALUES, binary)
    # Three chunks, one of them a slice that starts inside its buffers.
    column = pa.chunked_array([whole.slice(0, 2), whole.slice(2, 3), whole.slice(5)])

    buffers = log_blocks.values(column)

    assert [buffer.to_pybytes() for buffer in buffers] == VALUES


def test_blocks_read_as_a_column_decode_to_their_logs() -> None:
    at = datetime(2024, 9, 2, 9, 30, tzinfo=UTC)
    first = log_blocks.block_table(
        [("0b0e6f1c-3a55-4c1e-9d6a-2f4b8c7d1e01", 7, None, "10.0.0.1", at, 30, [1, None])]
    )
    second = log_blocks.block_table(
        [
            ("0b0e6f1c-3a55-4c1e-9d6a-2f4b8c7d1e02", 7, 42, "2001:db8::7", at, 0, []),
            ("0b0e6f1c-3a55-4c1e-9d6a-2f4b8c7d1e03", 9, 42, "10.0.0.2", at, 615, [3, 4]),
        ]
    )
    column = pa.chunked_array(
        [pa.array([log_blocks.encode(first)]), pa.array([log_blocks.encode(second)])]
    )

    logs = log_blocks.decode(log_blocks.values(column))

    assert logs.equals(pa.concat_tables([first, second]))
    assert logs.column("video_id").to_pylist() == [7, 7, 9]


def test_null_data_is_refused() -> None:
    with pytest.raises(ValueError, match="never null"):
        log_blocks.values(pa.chunked_array([pa.array([b"x", None], pa.binary())]))
