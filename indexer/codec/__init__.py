"""The on-disk format of a zhsearch index, written and read in one place.

Everything a Whoosh upgrade or a format change touches is here, beside its
reader: `w3` writes and reads Whoosh 2.7.4's W3 posting lists (the word fields
stay a Whoosh index that Whoosh's own reader opens, hence the exact pin in
pyproject.toml), `chars` is zhsearch's own character index beside each segment,
and `mapped` patches how Whoosh opens segment files. The indexer (segment.py,
merge.py) and the search side (search/postings.py) use only these modules to
touch bytes on disk; tests/test_codec.py checks that what is written reads back
equal, and that Whoosh's own reader agrees.
"""
