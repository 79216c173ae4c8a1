"""Terminal manners of the real `zhsearch` process (issue 17): a closed pipe ends every command
by SIGPIPE, human output is wrapped to $COLUMNS also when piped (JSON never), bash completion."""

from __future__ import annotations

import os
import signal
import subprocess

import orjson
import pytest

from .test_cli import ZHSEARCH, width

VOA_URL = "https://www.voachinese.com/a/reaction-us-south-china-sea-20200714/5501947.html"
CLOSING = tuple("，。、；：？！」』）》")
OPENING = tuple("「『（《")


def environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ZHSEARCH_INDEX", "NO_COLOR", "COLUMNS")}
    return env | extra


@pytest.fixture(autouse=True)
def installed():
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")


INDEX = object()  # stands for --index and the corpus index
COMMANDS = [
    ["search", "的", "-n", "0", INDEX],
    ["search", "的", "-n", "0", "--json", INDEX],
    ["search", "南海", INDEX],
    ["stats", INDEX],
    ["stats", "--json", INDEX],
    ["show", VOA_URL, INDEX],
    ["show", VOA_URL, "--json", INDEX],
    ["--help"],
    ["--version"],
    ["search", "--help"],
]


@pytest.mark.parametrize("args", COMMANDS)
def test_a_closed_pipe_ends_every_command_by_sigpipe(corpus_index, args):
    argv = [str(ZHSEARCH)] + [a for arg in args for a in (["--index", str(corpus_index)] if arg is INDEX else [arg])]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        p = subprocess.run(argv, stdout=write_end, stderr=subprocess.PIPE, env=environment(), timeout=120)
    finally:
        os.close(write_end)
    assert p.returncode == -signal.SIGPIPE, p.stderr.decode()
    assert p.stderr == b""


@pytest.mark.parametrize("form", [[], ["--json"]])
def test_head_1_sees_status_141(corpus_index, form):
    # 的 matches every article: far more output than a pipe buffers, so the writer meets the close.
    script = f'"$0" search 的 -n 0 --index "$1" {" ".join(form)} | head -1; echo "status=${{PIPESTATUS[0]}}" >&2'
    p = subprocess.run(["bash", "-c", script, str(ZHSEARCH), str(corpus_index)], capture_output=True,
                       env=environment(), timeout=120)
    assert p.stdout.count(b"\n") == 1
    assert p.stderr.decode() == "status=141\n"


def test_no_hits_is_still_exit_1_on_a_pipe(corpus_index):
    p = subprocess.run(["bash", "-c", '"$0" search zzqqxx --index "$1" | head -1; exit "${PIPESTATUS[0]}"',
                        str(ZHSEARCH), str(corpus_index)], capture_output=True, env=environment(), timeout=120)
    assert p.returncode == 1 and len(p.stderr.decode().splitlines()) == 1


@pytest.mark.parametrize("columns", [40, 64])
def test_human_output_is_wrapped_to_columns_also_when_piped(corpus_index, columns):
    p = subprocess.run([str(ZHSEARCH), "search", "南海", "仲裁", "-n", "5", "--index", str(corpus_index)],
                       capture_output=True, env=environment(COLUMNS=str(columns)), timeout=120)
    assert p.returncode == 0
    lines = [line for line in p.stdout.decode().splitlines() if line.strip()]
    text_lines = [line for line in lines if " · VOA · " not in line and "also at " not in line]
    assert len(text_lines) > 10
    for line in text_lines:
        assert width(line) <= columns, line
        assert not line.strip().startswith(CLOSING) and not line.endswith(OPENING), line
    assert max(width(line) for line in text_lines) > columns - 4  # wrapped at the width, not narrower


def test_json_is_never_wrapped(corpus_index):
    args = [str(ZHSEARCH), "search", "南海", "仲裁", "--json", "--index", str(corpus_index)]
    narrow = subprocess.run(args, capture_output=True, env=environment(COLUMNS="20"), timeout=120)
    wide = subprocess.run(args, capture_output=True, env=environment(), timeout=120)
    assert narrow.returncode == 0 and narrow.stdout == wide.stdout
    rows = [orjson.loads(line) for line in narrow.stdout.splitlines()]
    assert len(rows) == 3 and any(len(r["snippet"]) > 20 for r in rows)


def complete(words: str, cword: int) -> list[str]:
    env = environment(_ZHSEARCH_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    p = subprocess.run([str(ZHSEARCH)], capture_output=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return [line.split(",", 1)[1] for line in p.stdout.decode().splitlines()]


def test_bash_completion_offers_commands_options_and_choices():
    assert set(complete("zhsearch ", 1)) == {"index", "search", "similar", "timeline", "stats", "show", "serve"}
    assert set(complete("zhsearch s", 1)) == {"search", "similar", "stats", "show", "serve"}
    assert set(complete("zhsearch search --so", 2)) == {"--source", "--sort"}
    assert complete("zhsearch search --sort ", 3) == ["relevance", "date"]
    assert "--rebuild" in complete("zhsearch index --", 2)


def test_bash_completion_script_is_emitted():
    p = subprocess.run([str(ZHSEARCH)], capture_output=True, env=environment(_ZHSEARCH_COMPLETE="bash_source"),
                       timeout=60)
    assert p.returncode == 0
    assert "complete -o nosort -F _zhsearch_completion zhsearch" in p.stdout.decode()
