"""Reading tables: CSV, gzip-compressed CSV or Parquet, told apart by their first bytes, not by their name."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scorers.errors import ValidationError

Source = str | os.PathLike | bytes | BinaryIO

PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"

# Only an empty cell is missing: "NA" or "null" may be ids, and "nan" or "inf" are numbers that the checks
# refuse by name rather than as empty cells.
_NULLS = {"null_values": [""], "strings_can_be_null": True, "quoted_strings_can_be_null": False}


def read_bytes(source: Source) -> bytes:
    """The whole content of a path, a binary file object or bytes."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return source.read()


def read_table(
    source: Source,
    *,
    what: str = "file",
    text_columns: Collection[str] = (),
) -> pa.Table:
    """A table from CSV, gzip CSV or Parquet content; ValidationError saying what is wrong otherwise.

    CSV columns named in text_columns keep their text unless it reads as integers: ids such as 1e3 or
    2024-01-01 are not turned into other numbers or dates.
    """
    data = read_bytes(source)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, what)
    if not data or data.isspace():
        raise ValidationError(f"The {what} is empty.")
    if data[:4] == PARQUET_MAGIC:
        table = _read_parquet(data, what)
    else:
        _check_text(data, what)
        table = _read_csv(data, what, text_columns)
    names = table.column_names
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationError(f"The {what} has the column {', '.join(map(repr, duplicated))} more than once.")
    if table.num_rows == 0:
        raise ValidationError(f"The {what} has a header but no rows.")
    return table


def _gunzip(data: bytes, what: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        message = f"The {what} looks gzip-compressed but cannot be decompressed: {error}."
        raise ValidationError(message) from None


def _read_parquet(data: bytes, what: str) -> pa.Table:
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise ValidationError(f"The {what} looks like Parquet but cannot be read: {error}") from None


def _check_text(data: bytes, what: str) -> None:
    """Refuse archives, binary files and text that is not UTF-8, naming where it breaks."""
    if data[:4] == ZIP_MAGIC:
        raise ValidationError(
            f"The {what} is a zip archive (or an Excel workbook); upload CSV, gzip-compressed CSV or Parquet."
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ValidationError(f"The {what} is UTF-16 text, not UTF-8; save it as UTF-8 CSV, or as Parquet.")
    if b"\x00" in data[:4096]:
        raise ValidationError(f"The {what} is binary, not CSV; upload CSV, gzip-compressed CSV or Parquet.")
    if data.isascii():  # the usual case, and a much faster test than decoding
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValidationError(
            f"The {what} is not UTF-8 text: byte {error.start} (line {line}) cannot be decoded. "
            "Save it as UTF-8 CSV, or as Parquet."
        ) from None


def _read_csv(data: bytes, what: str, text_columns: Collection[str]) -> pa.Table:
    table = _parse_csv(data, what, {})
    # Inference turns 1e3 into a float, 2024-01-01 into a date and huge integers into floats; ids must keep
    # the text they were written with, so those columns are read again as text.
    retyped = {
        name: pa.string()
        for name in text_columns
        if name in table.column_names and not _integer_or_text(table.schema.field(name).type)
    }
    if retyped:
        table = _parse_csv(data, what, retyped)
    return table


def _parse_csv(data: bytes, what: str, column_types: dict[str, pa.DataType]) -> pa.Table:
    try:
        return pacsv.read_csv(
            pa.BufferReader(data), convert_options=pacsv.ConvertOptions(column_types=column_types, **_NULLS)
        )
    except pa.ArrowInvalid as error:
        raise ValidationError(f"The {what} is not a readable CSV file: {error}") from None


def _integer_or_text(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_null(kind)
