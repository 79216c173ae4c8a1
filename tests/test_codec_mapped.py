"""indexer/codec/mapped.py: segment files read in place from their memory maps."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

import search
from indexer import update_index
from indexer.codec.mapped import MappedBufferFile, _BufferStream

from .test_index import article, write


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), ops=st.lists(st.tuples(
    st.sampled_from(["read", "readline", "readinto", "seek", "tell"]),
    st.integers(-5, 700), st.integers(0, 2)), max_size=20))
def test_mapped_stream_reads_like_bytesio(data, ops):
    """The stream that replaces Whoosh's BytesIO copy behaves like it."""
    ours, ref = _BufferStream(memoryview(data)), io.BytesIO(data)
    for op, n, whence in ops:
        if op == "seek":
            if whence == 0 and n < 0:
                continue  # BytesIO refuses a negative absolute position
            assert ours.seek(n, whence) == ref.seek(n, whence)
        elif op == "readinto":
            a, b = bytearray(max(n, 0)), bytearray(max(n, 0))
            assert ours.readinto(a) == ref.readinto(b) and a == b
        elif op == "tell":
            assert ours.tell() == ref.tell()
        else:
            assert getattr(ours, op)(n) == getattr(ref, op)(n)


def test_opened_segments_read_their_maps_in_place(tmp_path):
    corpus = tmp_path / "c"
    for i in range(3):
        write(corpus / f"a{i}.md", article(url=f"https://www.dw.com/zh/a/{i}", title=f"香港第{i}号", body=f"香港国安法第{i}条。"))
    update_index([corpus], tmp_path / "ix")
    with search.open_index(tmp_path / "ix") as ix:
        reader = ix._searcher.reader()
        files = [seg._terms._postfile for seg, _ in reader.leaf_readers()]
        assert files and all(isinstance(f, MappedBufferFile) for f in files)
        assert ix.search("香港").total == 3
