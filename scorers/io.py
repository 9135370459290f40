"""Reading tables: CSV, gzip-compressed CSV or Parquet, told apart by their first bytes."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scorers.errors import ValidationError

PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    """The whole content of a path, a binary stream or bytes."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    return source.read()


def _check_utf8(data: bytes, what: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValidationError(
            f"The {what} is not UTF-8 text: byte {error.start} (line {line}) cannot be decoded. "
            "Save it as UTF-8 CSV, or as Parquet."
        ) from None


def read_table(source: str | Path | bytes | BinaryIO, *, what: str = "file") -> pa.Table:
    """A table from CSV, gzip CSV or Parquet content; ValidationError when it cannot be read."""
    data = read_bytes(source)
    if not data.strip():
        raise ValidationError(f"The {what} is empty.")
    if data[:4] == PARQUET_MAGIC:
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError) as error:
            raise ValidationError(f"The {what} looks like Parquet but cannot be read: {error}") from None
    else:
        if data[:2] == GZIP_MAGIC:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as error:
                raise ValidationError(f"The {what} looks gzip-compressed but cannot be decompressed: {error}") from None
            if not data.strip():
                raise ValidationError(f"The {what} is empty.")
        _check_utf8(data, what)
        try:
            table = pacsv.read_csv(pa.BufferReader(data))
        except pa.ArrowInvalid as error:
            raise ValidationError(f"The {what} is not a readable CSV file: {error}") from None
    names = table.column_names
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationError(f"The {what} has the column {', '.join(map(repr, duplicated))} more than once.")
    if table.num_rows == 0:
        raise ValidationError(f"The {what} has a header but no rows.")
    return table
