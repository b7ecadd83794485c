"""What a build shows while it runs (rag/index/progress.py): one display per stage, named
for what it does and counting what it really processes; short log lines when stderr is not a
terminal, live bars when it is, nothing with -q. A two-document corpus keeps these fast."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading

import pytest

DOCS = {
    "a.txt": "长沙经开区今年签约了16个重点项目。总投资超过300亿元。\n\n项目涵盖高端装备和电子信息。",
    "b.txt": "湖南与大湾区合作不断深化。港洽周于5月15日在香港开幕。",
}
STAGES = ["normalise", "chunk", "index the words of", "embed", "embed", "write index"]


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def rag(*args, cache, stderr=subprocess.PIPE):
    env = {**os.environ, "RAG_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "rag", *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, timeout=300)


def stage_lines(stderr: str) -> list[str]:
    return [line.removeprefix("rag: ") for line in stderr.splitlines() if not line.startswith("rag: building index")]


def test_one_line_per_stage_with_honest_counts_when_not_a_terminal(corpus, tmp_path):
    cache, index = tmp_path / "cache", tmp_path / "index"
    result = rag("index", "--corpus", str(corpus), "--index", str(index), cache=cache)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "%|" not in result.stderr  # no bars in a log
    lines = stage_lines(result.stderr)
    assert [next(s for s in STAGES if line.startswith(s)) for line in lines] == STAGES, lines
    passages, sentences = map(int, re.search(r"(\d+) passages?, (\d+) sentences?", lines[1]).groups())
    assert lines[0].startswith("normalise 2 documents in ") and lines[1].startswith("chunk 2 documents in ")
    assert lines[2].startswith(f"index the words of {passages} passage")
    assert lines[3].startswith(f"embed {sentences} sentence") and lines[4].startswith(f"embed {passages} passage")  # sentences first: pooled passage vectors are made from theirs
    assert all(re.search(r" in \d+\.\d s", line) for line in lines), lines
    assert "embedding" not in result.stderr  # the old bar's name, whatever it embedded

    # an edit: only the changed document is processed, and the counts say so
    (corpus / "b.txt").write_text(DOCS["b.txt"] + "\n\n新的一段：长沙今年新增外资企业20家。", encoding="utf-8")
    lines = stage_lines(rag("index", "--corpus", str(corpus), "--index", str(index), cache=cache).stderr)
    assert lines[0].startswith("normalise 1 document (1 unchanged) in ") and lines[1].startswith("chunk 1 document (1 unchanged) in ")
    assert re.match(r"embed \d+ passages? \(\d+ unchanged\) in ", lines[4]), lines

    # a rebuild finds every vector in the embedding cache, and says so
    lines = stage_lines(rag("index", "--rebuild", "--corpus", str(corpus), "--index", str(index), cache=cache).stderr)
    assert re.match(r"embed (\d+) passages? in \d+\.\d s: \1 from the embedding cache$", lines[4]), lines


def test_quiet_shows_nothing(corpus, tmp_path):
    result = rag("index", "-q", "--corpus", str(corpus), "--index", str(tmp_path / "index"), cache=tmp_path / "cache")
    assert result.returncode == 0 and result.stderr == ""


def test_a_terminal_gets_one_bar_per_counting_stage(corpus, tmp_path):
    """stderr on a pseudo-terminal of 100 x 30: each counting stage draws one bar, left in place;
    the stages that count nothing are one line each."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    seen = bytearray()

    def drain():
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed
                return
            if not data:
                return
            seen.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    result = rag("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"), cache=tmp_path / "cache", stderr=follower)
    os.close(follower)
    reader.join(10)
    os.close(leader)
    assert result.returncode == 0
    screen = seen.decode(errors="replace").replace("\r\n", "\n")
    final = [part.split("\r")[-1] for part in screen.split("\n") if part.strip()]  # what stays on each line
    labels = [re.sub(r":\s+\d+%\|.*", "", line).removeprefix("rag: ") for line in final if "%|" in line]
    assert labels == ["normalise 2 documents", "chunk 2 documents", labels[2], labels[3]] and labels[2].startswith("embed ") and labels[3].startswith("embed ")
    assert all("100%|" in line for line in final if "%|" in line), final
    assert any(line.startswith("rag: index the words of") for line in final) and any(line.startswith("rag: write index in") for line in final)
