"""indexer/worklist.py: the packed list of files a run writes gives back what was put in."""

from __future__ import annotations

import pickle

from hypothesis import given, strategies as st

from indexer.worklist import FileToWrite, WorkList

# paths as the walk gives them: any text but NUL, lone surrogates included (undecodable names)
_path = st.text(st.characters(blacklist_characters="\0"), max_size=40)
_items = st.lists(st.builds(FileToWrite, _path, st.sampled_from(["corpus", "/a/b", "档案"]),
                           st.text("0123456789abcdef", max_size=32)), max_size=30)


@given(_items, st.integers(-35, 35), st.integers(-35, 35))
def test_items_and_slices_read_back_as_put_in(items, i, j):
    work = WorkList(items)
    assert len(work) == len(items)
    assert list(work) == items
    assert list(work[i:j]) == items[i:j]
    assert list(work[i:][:j]) == items[i:][:j]
    if -len(items) <= i < len(items):
        assert work[i] == items[i]


def test_items_survive_the_pipe_between_the_two_processes():
    # the child sends its problems (file, reason) back pickled
    item = WorkList([FileToWrite("a/b.md", "/c", "ff")])[0]
    assert pickle.loads(pickle.dumps(item)) == item and isinstance(item, FileToWrite)
    assert item.abspath == "/c/a/b.md"
