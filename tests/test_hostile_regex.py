"""User regular expressions finish in bounded time, or are refused when the file is loaded.

Why: topic dictionaries (``regex``, ``exclude_regex``) and study files
(``[contacts.derive]`` patterns) hold patterns a user wrote.  A backtracking engine (Python
``re``) needs exponential time for ``(a+)+$`` on ``"aaa...a!"``; RE2 (Arrow's engine) is
linear.  So catastrophic patterns RE2 accepts must run fast on long adversarial texts, and
patterns RE2 cannot run (look-arounds, back-references) must be a SpecError with a fix —
never a silent fallback to ``re``.

The timing tests run in a subprocess with a timeout, so a regression fails instead of
hanging the suite.  They set pandas' string storage to "python": with that (documented,
user-settable) option, ``Series.str.contains`` on ``astype("string")`` uses Python ``re``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from cpcstats import saferegex
from cpcstats.cli import main
from cpcstats.errors import SpecError
from cpcstats.study import load_study
from cpcstats.topics import (
    TopicDictionary,
    load_dictionary,
    tag_contacts,
    tag_texts,
    yearly_topics,
)

REPO = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 5.0
HANG_SECONDS = 60  # far beyond LIMIT_SECONDS: only a backtracking engine gets here

# catastrophic for a backtracking engine on "aaa...a!", linear in RE2
CATASTROPHIC = ["(a+)+$", "(x+x+)+y", "(.*a){20}", "(a|aa)+$"]
# RE2 cannot run these in linear time, so it refuses them (they forced the `re` fallback)
UNSAFE = {
    "back-reference": r"(a)\1",
    "nested back-reference": r"(a+)+\1c",
    "look-ahead": "(?=a)",
    "catastrophic look-ahead": "(?=(a+)+c)",
    "negative look-ahead": "a(?!b)",
    "look-behind": "(?<=a)b",
    "negative look-behind": "(?<!not )learn",
}


def _run_timed(script: str, tmp_path: Path) -> dict:
    """Run ``script`` in a fresh interpreter; it prints JSON with ``elapsed`` (seconds)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=HANG_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"user patterns did not finish in {HANG_SECONDS} s: backtracking regex")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dictionary(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text('language = "en"\n' + body, encoding="utf-8")
    return path


def _regex_topic(name: str, pattern: str, key: str = "regex") -> str:
    extra = "" if key == "regex" else "terms = ['x']\n"
    return f"[[topic]]\nname = {name!r}\n{extra}{key} = [{json.dumps(pattern)}]\n"


def test_catastrophic_topic_patterns_run_in_bounded_time(tmp_path: Path) -> None:
    body = "".join(_regex_topic(f"t{i}", p) for i, p in enumerate(CATASTROPHIC))
    body += "[[topic]]\nname = 'blanked'\nterms = ['x']\nexclude_regex = ['(a+)+$', '(.*a){20}']\n"
    path = _dictionary(tmp_path, body)
    result = _run_timed(
        f"""
        import json, time
        import pandas as pd
        pd.options.mode.string_storage = "python"
        from cpcstats.topics import load_dictionary, tag_texts
        dictionary = load_dictionary({str(path)!r})
        # 10,000 distinct texts (tagging matches each distinct text once)
        texts = pd.Series(["a" * 2000 + "!" + str(i) for i in range(10_000)], dtype=object)
        start = time.perf_counter()
        tags = tag_texts(texts, dictionary)
        elapsed = time.perf_counter() - start
        print(json.dumps({{"elapsed": elapsed, "hits": tags.sum().astype(int).to_dict()}}))
        """,
        tmp_path,
    )
    assert result["elapsed"] < LIMIT_SECONDS
    # the results are RE2's answers, not an artefact of giving up: (.*a){20} matches
    assert result["hits"] == {
        "topic_t0": 0,
        "topic_t1": 0,
        "topic_t2": 10_000,
        "topic_t3": 0,
        "topic_blanked": 0,
    }


def _study_files(tmp_path: Path, patterns: dict[str, str], texts: list[str]) -> Path:
    rows = pd.DataFrame(
        {
            "date": [f"{2004 + i % 4}-03-01" for i in range(len(texts))],
            "country": ["Norway", "Mali", "Chile", "Peru"] * (len(texts) // 4)
            + ["Norway"] * (len(texts) % 4),
            "text": texts,
        }
    )
    rows.to_csv(tmp_path / "contacts.csv", index=False)
    shown = ", ".join(f"{json.dumps(p)} = {json.dumps(v)}" for p, v in patterns.items())
    body = (
        "[study]\nname = 'hostile'\nfirst_year = 2004\nlast_year = 2007\n"
        '[contacts]\npath = "contacts.csv"\n'
        '[contacts.defaults]\ncounterpart_type = "state"\n'
        f'[contacts.derive.direction]\nfrom = "text"\npatterns = {{ {shown} }}\n'
        'default = "unknown"\n'
    )
    path = tmp_path / "study.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_catastrophic_derive_patterns_run_in_bounded_time(tmp_path: Path) -> None:
    # only the last rule matches "aaa...a!"; the others must fail fast (first match wins)
    patterns = {p: "outbound" for p in CATASTROPHIC if p != "(.*a){20}"} | {"(.*a){20}": "inbound"}
    texts = ["a" * 2000 + "!" for _ in range(2_000)]
    path = _study_files(tmp_path, patterns, texts)
    result = _run_timed(
        f"""
        import json, time
        import pandas as pd
        pd.options.mode.string_storage = "python"  # pandas' str.contains would use `re`
        from cpcstats.study import load_study
        start = time.perf_counter()
        study = load_study({str(path)!r})
        elapsed = time.perf_counter() - start
        counts = study.contacts["direction"].value_counts().to_dict()
        print(json.dumps({{"elapsed": elapsed, "counts": counts}}))
        """,
        tmp_path,
    )
    assert result["elapsed"] < LIMIT_SECONDS
    assert result["counts"] == {"inbound": 2_000}


@pytest.mark.parametrize("kind", sorted(UNSAFE))
@pytest.mark.parametrize("key", ["regex", "exclude_regex"])
def test_dictionary_pattern_re2_cannot_run_is_a_load_error(
    tmp_path: Path, kind: str, key: str
) -> None:
    pattern = UNSAFE[kind]
    path = _dictionary(
        tmp_path,
        "[[topic]]\nname = 'fine'\nterms = ['Taiwan']\n"
        + _regex_topic("hostile_topic", pattern, key),
    )
    with pytest.raises(SpecError) as info:
        load_dictionary(path)
    error = info.value
    assert error.file == str(path)
    assert "hostile_topic" in error.problem and repr(pattern) in error.problem
    assert "cannot be run safely" in error.problem
    assert error.fix is not None and "look-arounds or back-references" in error.fix
    assert "exclude_regex" in error.fix


@pytest.mark.parametrize("kind", sorted(UNSAFE))
def test_derive_pattern_re2_cannot_run_is_a_load_error(tmp_path: Path, kind: str) -> None:
    pattern = UNSAFE[kind]
    path = _study_files(tmp_path, {"travel": "outbound", pattern: "inbound"}, ["x"] * 4)
    with pytest.raises(SpecError) as info:
        load_study(path)
    error = info.value
    assert error.file == str(path) and error.column == "direction"
    assert "[contacts.derive.direction]" in error.problem and repr(pattern) in error.problem
    assert error.fix is not None and "look-arounds or back-references" in error.fix
    assert "first matching pattern wins" in error.fix  # derive has no exclude_regex


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(", ["not a valid regular expression", "missing )"]),
        ("a{2000}", ["cannot be run safely", "repetition"]),
        ("((a{100}){100}){100}", ["cannot be run safely", "repetition"]),
        ("a" * 1001, ["1,001 characters", "at most 1,000"]),
        # accepted by RE2 but slow per character (a[ab]{999}c: about 12 s per MB)
        ("a[ab]{400}c", ["grows by 399 characters", "at most 300"]),
        ("((a|b){30}){30}c", ["grows by 899 characters", "at most 300"]),
    ],
)
def test_invalid_or_oversized_patterns_are_load_errors(
    tmp_path: Path, pattern: str, words: list[str]
) -> None:
    path = _dictionary(tmp_path, _regex_topic("bad", pattern))
    with pytest.raises(SpecError) as info:
        load_dictionary(path)
    assert info.value.file == str(path) and "'bad'" in info.value.problem
    for word in words:
        assert word in info.value.problem
    study = _study_files(tmp_path, {pattern: "inbound"}, ["x"] * 4)
    with pytest.raises(SpecError) as info:
        load_study(study)
    assert info.value.column == "direction" and info.value.fix
    for word in words:
        assert word in info.value.problem


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)", "(?<!x)y", "("])
def test_cli_topics_refuses_the_dictionary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    path = _dictionary(tmp_path, _regex_topic("hostile_topic", pattern))
    out = tmp_path / "out"
    code = main(["topics", "--dictionary", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and "hostile_topic" in err
    assert "\n  fix: " in err and "Traceback" not in err and "internal error" not in err
    assert not (out / "tables" / "topics_yearly.csv").exists()


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)", "(?<=a)b", "("])
def test_cli_check_refuses_the_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    path = _study_files(tmp_path, {pattern: "inbound"}, ["x"] * 4)
    code = main(["check", "--study", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and "direction" in err and repr(pattern) in err
    assert "\n  fix: " in err and "Traceback" not in err and "internal error" not in err


def test_matching_never_falls_back_to_python_re() -> None:
    """A pattern RE2 refuses is an error at match time too, not a silent `re` run."""
    texts = pd.Series(["aaaa"])
    with pytest.raises(SpecError, match="cannot be run safely"):
        saferegex.contains(texts, r"(a)\1")
    with pytest.raises(SpecError, match="cannot be run safely"):
        saferegex.replace(texts, "(?=a)", " ")


def test_case_insensitive_unicode_and_undecodable_text(tmp_path: Path) -> None:
    body = (
        "[[topic]]\nname = 'cote'\nterms = [\"Côte d'Ivoire\"]\n"
        "[[topic]]\nname = 'xinjiang'\nterms = ['Xinjiang']\nregex = ['新疆']\n"
        "[[topic]]\nname = 'greek'\nregex = ['αθήνα']\n"
    )
    dictionary = load_dictionary(_dictionary(tmp_path, body))
    texts = pd.Series(
        [
            "Talks in CÔTE D'IVOIRE",  # non-ASCII upper case
            "visit to 新疆",
            "XINJIANG delegation",
            "ΑΘΉΝΑ meeting",  # Greek upper case folds to the lower-case pattern
            "bytes \udcff kept by surrogateescape, Xinjiang",  # not valid UTF-8: no crash
            None,
        ],
        dtype=object,
    )
    tags = tag_texts(texts, dictionary)
    assert tags["topic_cote"].tolist() == [1, 0, 0, 0, 0, 0]
    assert tags["topic_xinjiang"].tolist() == [0, 1, 1, 0, 1, 0]
    assert tags["topic_greek"].tolist() == [0, 0, 0, 1, 0, 0]


def _reference_tags(texts: pd.Series, dictionary: TopicDictionary) -> pd.DataFrame:
    """Independent oracle: Python ``re`` with ASCII classes (RE2's \\b and \\w are ASCII) on
    the *shipped*, trusted patterns — safe here, and exactly the pre-RE2 semantics."""
    flags = re.IGNORECASE | re.ASCII
    out = {}
    for topic in dictionary.topics:
        hit = re.compile(topic.pattern, flags)
        drop = re.compile(topic.exclude, flags) if topic.exclude else None
        out[topic.column] = [
            int(bool(hit.search(drop.sub(" ", t) if drop else t))) for t in texts.fillna("")
        ]
    return pd.DataFrame(out, index=texts.index)


def test_shipped_dictionary_on_the_demo_matches_an_independent_engine() -> None:
    """The RE2 path gives the same yearly topic table as Python ``re`` on the demo study."""
    study = load_study("demo")
    dictionary = load_dictionary()
    tagged, _ = tag_contacts(study.contacts, dictionary, unit="item")
    expected = tagged.drop(columns=[t.column for t in dictionary.topics])
    expected = pd.concat([expected, _reference_tags(tagged["text"], dictionary)], axis=1)
    pd.testing.assert_frame_equal(
        yearly_topics(tagged, dictionary), yearly_topics(expected, dictionary)
    )
    assert tagged[[t.column for t in dictionary.topics]].to_numpy().sum() > 0


def test_shipped_and_study_patterns_compile_in_re2() -> None:
    """Every pattern cpcstats ships (topic dictionary, real study derive rule) runs in RE2."""
    dictionary = load_dictionary()
    for topic in dictionary.topics:
        for pattern in filter(None, [topic.pattern, topic.exclude]):
            assert saferegex._re2_error(saferegex.runnable(pattern)) is None
    from cpcstats.tomlio import load_toml

    real = load_toml(REPO / "replication" / "studies" / "elite_engagements.toml")
    patterns = real["contacts"]["derive"]["direction"]["patterns"]
    assert patterns
    for pattern in patterns:
        assert saferegex.check_pattern(pattern, file=None, where="pattern")


@pytest.mark.parametrize(
    "pattern",
    [
        r"Taiwan.{0,100}independence",  # "within 100 characters"
        r"\b\d{4}\b",
        r"[A-Z][a-z]+(\s[A-Z][a-z]+){0,5}",
        r"\b(" + "|".join(f"party{i}" for i in range(120)) + r")\b",  # long literal list
        r"\pL+ism\b",  # RE2-only syntax (Python re cannot parse it)
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert saferegex.check_pattern(pattern, file=None, where="regex") == f"(?i){pattern}"


def test_cli_check_refuses_the_study_topic_dictionary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` loads the dictionary `replicate` would tag with, so a look-around in a topic
    is reported before any run (it used to surface only at the topics step)."""
    path = _study_files(tmp_path, {"visit": "outbound"}, ["a visit", "talks", "x", "y"])
    _dictionary(tmp_path, _regex_topic("bad", "(?<!not )learn"))
    path.write_text(
        path.read_text(encoding="utf-8") + '[topics]\ndictionary = "topics.toml"\n',
        encoding="utf-8",
    )
    code = main(["check", "--study", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "topics.toml" in err and "bad" in err and "\n  fix: " in err
    assert "Traceback" not in err and "internal error" not in err
    # the same study without the bad topic passes and names its topics
    _dictionary(tmp_path, _regex_topic("good", "learn(ing)? from"))
    assert main(["check", "--study", str(path)]) == 0
    assert "1 topics checked (good)" in capsys.readouterr().out
