"""Reading tables: CSV, gzip-compressed CSV or Parquet, told apart by their first bytes, not by their name.

A file is never held whole in memory before it is parsed: gzip is decompressed in chunks to a temporary
file, CSV and Parquet are read where they lie. Limits on the decompressed size, the columns and the rows
refuse a file from its header, its metadata or a scan of its bytes, before it costs more than a valid
file would.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import tempfile
import zlib
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scorers.errors import ValidationError, clip, names


class Readable(Protocol):
    """Anything read front to back as bytes: a file, a request's body, a zip member, a wrapper that counts."""

    def read(self, size: int = -1, /) -> bytes: ...


Source = str | os.PathLike | bytes | Readable

PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024  # bytes in memory at once while a file is copied, decompressed or scanned
HEAD = 64 * 1024  # bytes looked at to tell the format and count the header's columns
PARQUET_BATCH = 65_536  # rows decoded at once from Parquet, so that a limit stops a bomb early

# Only an empty cell is missing: "NA" or "null" may be ids, and "nan" or "inf" are numbers that the checks
# refuse by name rather than as empty cells.
_NULLS = {"null_values": [""], "strings_can_be_null": True, "quoted_strings_can_be_null": False}


class TooManyColumns(ValidationError):
    """A table with more columns than allowed, refused from its header or metadata alone."""

    def __init__(self, what: str, count: int, complete: bool = True) -> None:
        self.counted = f"{count:,}" if complete else f"at least {count:,}"
        super().__init__(f"The {what} has {self.counted} columns, far more than it may have.")


@dataclass(frozen=True)
class _Content:
    """A file's decompressed bytes, where pyarrow reads them natively: a path on disk or a buffer in memory."""

    where: str | pa.Buffer
    size: int
    head: bytes

    def open(self) -> pa.NativeFile:
        return pa.OSFile(self.where) if isinstance(self.where, str) else pa.BufferReader(self.where)


def read_table(
    source: Source,
    *,
    what: str = "file",
    text_columns: Collection[str] = (),
    max_bytes: int | None = None,
    max_columns: int | None = None,
    max_rows: int | None = None,
) -> pa.Table:
    """A table from CSV, gzip CSV or Parquet content; ValidationError saying what is wrong otherwise.

    CSV columns named in text_columns keep their text unless it reads as integers: ids such as 1e3 or
    2024-01-01 are not turned into other numbers or dates. max_bytes bounds the content once decompressed,
    max_columns and max_rows the table (rows are counted as lines of CSV, which are never fewer).
    """
    with _content(source, what, max_bytes) as content:
        if content.size == 0:
            raise ValidationError(f"The {what} is empty.")
        if content.head[:4] == PARQUET_MAGIC:
            table = _read_parquet(content, what, max_bytes, max_columns, max_rows)
        else:
            _check_text(content.head, what)
            _check_header(content.head, what, max_columns)
            _scan_text(content, what, max_rows)
            table = _read_csv(content, what, text_columns)
    counts: dict[str, int] = {}
    for name in table.column_names:
        counts[name] = counts.get(name, 0) + 1
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise ValidationError(f"The {what} has the column {names(duplicated)} more than once.")
    if table.num_rows == 0:
        raise ValidationError(f"The {what} has a header but no rows.")
    return table


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


@contextmanager
def _content(source: Source, what: str, max_bytes: int | None) -> Iterator[_Content]:
    """The source's content, decompressed into a temporary file when it is gzip, at most max_bytes long."""
    with ExitStack() as stack:
        if isinstance(source, bytes):
            stream: Readable = io.BytesIO(source)
            local: str | pa.Buffer | None = pa.py_buffer(source)
        elif isinstance(source, (str, os.PathLike)):
            local = os.fspath(source)
            stream = stack.enter_context(open(local, "rb"))
        else:
            stream, local = source, _path_of(source)
        first = stream.read(len(GZIP_MAGIC))
        if first == GZIP_MAGIC:
            decompressed = stack.enter_context(gzip.GzipFile(fileobj=_Prefixed(first, stream), mode="rb"))
            yield _spooled(stack, _gunzipped(decompressed, what), what, max_bytes, "once decompressed")
        elif local is not None:
            size = len(local) if isinstance(local, pa.Buffer) else os.path.getsize(local)
            _check_size(size, what, max_bytes, "")
            with pa.BufferReader(local) if isinstance(local, pa.Buffer) else pa.OSFile(local) as reader:
                head = reader.read(HEAD)
            yield _Content(local, size, head)
        else:
            yield _spooled(stack, _chunks(_Prefixed(first, stream)), what, max_bytes, "")


def _path_of(stream: Readable) -> str | None:
    """The path of a file opened from disk at its start, read where it lies rather than copied."""
    name = getattr(stream, "name", None)
    if isinstance(stream, io.BufferedReader) and isinstance(name, str) and stream.seekable() and stream.tell() == 0:
        return name if os.path.isfile(name) else None
    return None


class _Prefixed:
    """A stream read from its start although its first bytes were already taken to tell its format."""

    def __init__(self, first: bytes, rest: Readable) -> None:
        self.first, self.rest = first, rest

    def read(self, size: int = -1) -> bytes:
        if not self.first:
            return self.rest.read(size)
        if size is None or size < 0:
            data, self.first = self.first + self.rest.read(), b""
            return data
        data, self.first = self.first[:size], self.first[size:]
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        """Refused: the stream is read once, front to back (GzipFile only seeks when asked to rewind)."""
        raise io.UnsupportedOperation("this stream is read once and cannot seek")


def _chunks(stream: _Prefixed | gzip.GzipFile) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def _gunzipped(decompressed: gzip.GzipFile, what: str) -> Iterator[bytes]:
    try:
        yield from _chunks(decompressed)
    except (OSError, EOFError, zlib.error) as error:
        message = f"The {what} looks gzip-compressed but cannot be decompressed: {clip(str(error))}."
        raise ValidationError(message) from None


def _spooled(stack: ExitStack, chunks: Iterator[bytes], what: str, max_bytes: int | None, how: str) -> _Content:
    """The chunks written to a temporary file, refused as soon as they pass max_bytes."""
    descriptor, path = tempfile.mkstemp(prefix="scorers-", suffix=".table")
    stack.callback(Path(path).unlink, missing_ok=True)
    size, head = 0, b""
    with os.fdopen(descriptor, "wb") as spool:
        for chunk in chunks:
            size += len(chunk)
            _check_size(size, what, max_bytes, how)
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            spool.write(chunk)
    return _Content(path, size, head)


def _check_size(size: int, what: str, max_bytes: int | None, how: str) -> None:
    """Refuse content past max_bytes; how says when it was measured ("once decompressed")."""
    if max_bytes is not None and size > max_bytes:
        measured = f" {how}" if how else ""
        raise ValidationError(f"The {what} is larger than {_size(max_bytes)}{measured}, the largest accepted.")


def _read_parquet(
    content: _Content, what: str, max_bytes: int | None, max_columns: int | None, max_rows: int | None
) -> pa.Table:
    """Parquet, refused from its metadata when too wide or too long, and decoded in batches within max_bytes."""
    try:
        with content.open() as reader:
            plain = pq.ParquetFile(reader)
            metadata, schema = plain.metadata, plain.schema_arrow
        if max_columns is not None and metadata.num_columns > max_columns:
            raise TooManyColumns(what, metadata.num_columns)
        if max_rows is not None and metadata.num_rows > max_rows:
            raise ValidationError(f"The {what} has {metadata.num_rows:,} rows, more than the {max_rows:,} allowed.")
        declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        _check_size(declared, what, max_bytes, "once decompressed")
        # Text stays dictionary-encoded while it is counted: a short dictionary repeated on every row
        # decodes to far more than the file says.
        text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        batches, decoded = [], 0
        with content.open() as reader:
            parquet = pq.ParquetFile(reader, read_dictionary=text)
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
                decoded += sum(_decoded_size(column) for column in batch.columns)
                _check_size(decoded, what, max_bytes, "once decoded")
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=parquet.schema_arrow)
    except (pa.ArrowException, OSError) as error:
        raise ValidationError(f"The {what} looks like Parquet but cannot be read: {clip(str(error))}") from None


def _decoded_size(column: pa.Array) -> int:
    """Bytes the column takes once its dictionary, if any, is decoded."""
    if not pa.types.is_dictionary(column.type):
        return column.nbytes
    if not (pa.types.is_string(column.type.value_type) or pa.types.is_large_string(column.type.value_type)):
        return column.dictionary_decode().nbytes  # fixed-width values: a batch of them is small
    used = pc.take(pc.binary_length(column.dictionary), column.indices)
    return column.indices.nbytes + 4 * len(column) + int(pc.sum(used).as_py() or 0)


def _check_text(head: bytes, what: str) -> None:
    """Refuse archives, binary files and UTF-16 from the first bytes."""
    if head[:4] == ZIP_MAGIC:
        raise ValidationError(
            f"The {what} is a zip archive (or an Excel workbook); upload CSV, gzip-compressed CSV or Parquet."
        )
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ValidationError(f"The {what} is UTF-16 text, not UTF-8; save it as UTF-8 CSV, or as Parquet.")
    if b"\x00" in head[:4096]:
        raise ValidationError(f"The {what} is binary, not CSV; upload CSV, gzip-compressed CSV or Parquet.")


def _check_header(head: bytes, what: str, max_columns: int | None) -> None:
    """Refuse a CSV file whose header has more than max_columns columns, without parsing the rest."""
    if max_columns is None:
        return
    line, newline, _ = head.partition(b"\n")
    header = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
    if len(header) > max_columns:
        raise TooManyColumns(what, len(header), complete=bool(newline))


def _scan_text(content: _Content, what: str, max_rows: int | None) -> None:
    """One pass over the bytes, a chunk at a time: UTF-8 throughout, not blank, not more lines than rows allowed."""
    lines, offset, blank, pending = 0, 0, True, b""
    with content.open() as reader:
        while chunk := reader.read(CHUNK):
            lines += chunk.count(b"\n")
            blank = blank and chunk.isspace()
            data = pending + chunk if pending else chunk
            if data.isascii():  # the usual case, and a much faster test than decoding
                pending = b""
            else:
                start = offset - len(pending)
                try:
                    _, consumed = codecs.utf_8_decode(data, "strict", False)
                except UnicodeDecodeError as error:
                    _not_utf8(content, what, start + error.start)
                pending = data[consumed:]
            offset += len(chunk)
    if pending:
        _not_utf8(content, what, offset - len(pending))
    if blank:
        raise ValidationError(f"The {what} is empty.")
    if max_rows is not None and lines - 1 > max_rows:
        raise ValidationError(
            f"The {what} has {lines - 1:,} lines below its header, more than the {max_rows:,} allowed."
        )


def _not_utf8(content: _Content, what: str, position: int) -> NoReturn:
    line = 1
    with content.open() as reader:
        done = 0
        while done < position and (chunk := reader.read(min(CHUNK, position - done))):
            line += chunk.count(b"\n")
            done += len(chunk)
    raise ValidationError(
        f"The {what} is not UTF-8 text: byte {position} (line {line}) cannot be decoded. "
        "Save it as UTF-8 CSV, or as Parquet."
    )


def _read_csv(content: _Content, what: str, text_columns: Collection[str]) -> pa.Table:
    table = _parse_csv(content, what, {})
    # Inference turns 1e3 into a float, 2024-01-01 into a date and huge integers into floats; ids must keep
    # the text they were written with, so those columns are read again as text.
    retyped = {
        name: pa.string()
        for name in text_columns
        if name in table.column_names and not _integer_or_text(table.schema.field(name).type)
    }
    if not retyped:
        return table
    del table  # the first reading goes before the second is made
    return _parse_csv(content, what, retyped)


def _parse_csv(content: _Content, what: str, column_types: dict[str, pa.DataType]) -> pa.Table:
    try:
        return pacsv.read_csv(content.open(), convert_options=pacsv.ConvertOptions(column_types=column_types, **_NULLS))
    except pa.ArrowInvalid as error:
        raise ValidationError(f"The {what} is not a readable CSV file: {clip(str(error))}") from None


def _integer_or_text(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_null(kind)
