"""indexer/worklist.py: the packed list of files a run writes gives back what was put in."""

from __future__ import annotations

import pickle

from hypothesis import given, strategies as st

from indexer.worklist import FileToWrite, WorkList, halfway

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


@given(st.lists(st.integers(0, 50_000), max_size=60), st.integers(0, 30), st.integers(0, 60))
def test_halfway_cuts_into_runs_of_nearly_equal_cost(sizes, i, j):
    # the two indexing processes take a run each; a file costs its size plus the mean size
    items = [FileToWrite(f"{k}.md", "corpus", "") for k in range(len(sizes))]
    size = dict(zip((it.rel for it in items), sizes))
    work = WorkList(items, size=lambda item: size[item.rel])[i:j]
    part = sizes[i:j]
    cut = work.halfway()
    assert cut == halfway(part)
    if len(part) < 2:
        assert cut == len(part)
        return
    assert 1 <= cut <= len(part) - 1
    mean = sum(part) / len(part)

    def off(c):  # how far the first c files' cost is from half the whole
        return abs(2 * (sum(part[:c]) + c * mean) - 2 * sum(part))

    assert off(cut) <= 2 * (max(part) + mean) and off(cut) == min(off(c) for c in range(1, len(part)))


def test_halfway_of_files_alike_is_half_the_count():
    work = WorkList([FileToWrite(f"{k}.md", "corpus", "") for k in range(7)])
    assert work.halfway() == 3 and work[2:].halfway() == 2 and halfway([10] * 8) == 4


def test_halfway_weighs_count_and_size_alike():
    # one large file and many small ones: neither half the count nor half the bytes
    sizes = [9_000] + [1_000] * 9  # 18,000 bytes, mean 1,800: costs 10,800 then 2,800 each
    assert halfway(sizes) == 4  # 10,800 + 3 * 2,800 = 19,200 of 36,000
