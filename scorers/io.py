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
# Only an empty cell is missing: "nan" and "inf" are read as the numbers they spell, and refused as such.
CONVERT = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False)
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
    if not data or data.isspace():
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
            if not data or data.isspace():
                raise ValidationError(f"The {what} is empty.")
        try:
            table = pacsv.read_csv(pa.BufferReader(data), convert_options=CONVERT)
        except pa.ArrowInvalid as error:
            raise ValidationError(f"The {what} is not a readable CSV file: {error}") from None
        if any(pa.types.is_binary(field.type) for field in table.schema):
            _check_utf8(data, what)  # the reader keeps text that is not UTF-8 as bytes; say where it breaks
    names = table.column_names
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationError(f"The {what} has the column {', '.join(map(repr, duplicated))} more than once.")
    if table.num_rows == 0:
        raise ValidationError(f"The {what} has a header but no rows.")
    return table
