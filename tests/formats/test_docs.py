"""The receiver code in docs/integrations.md verifies real Signalpost signatures, in every
language shown, and the documented event data is the catalog's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers

from app.domain import filters
from app.domain.catalog import EVENT_TYPES, example_data
from app.domain.signing import generate_secret, signature_headers

DOC = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text(encoding="utf-8")
BODY = '{"id":"evt_1","event":"custom","timestamp":"2026-02-01T10:30:00Z","data":{"n":"é 🚀"}}'


def snippet(name: str) -> str:
    """The code block right after `<!-- tested: name -->`."""
    match = re.search(rf"<!-- tested: {re.escape(name)} -->\n```\w+\n(.*?)```", DOC, re.S)
    assert match, f"no tested snippet {name} in docs/integrations.md"
    return match.group(1)


def cases() -> list[dict]:
    """Signed requests and whether a correct receiver must accept each."""
    secret, old_secret, other = generate_secret(), generate_secret(), generate_secret()
    now = int(time.time())
    body = BODY.encode()

    def case(accept: bool, secrets: list[str], sent_at: int = now, sent: bytes = body) -> dict:
        headers = signature_headers(secrets, "evt_1", sent_at, body)
        return {"accept": accept, "secret": secret, "headers": headers, "body": sent.decode()}

    return [
        case(True, [secret]),
        case(True, [old_secret, secret]),  # during a rotation
        case(False, [other]),
        case(False, [secret], sent=body.replace(b"n", b"m")),
        case(False, [secret], sent_at=now - 3600),
    ]


def test_python_by_hand():
    namespace: dict = {}
    exec(snippet("verify.py"), namespace)
    for case in cases():
        headers = Headers(case["headers"])  # case-insensitive, like Flask's request.headers
        got = namespace["verify"](case["secret"], headers, case["body"].encode())
        assert got is case["accept"], case


def test_python_with_standardwebhooks():
    namespace: dict = {}
    exec(snippet("standard.py"), namespace)
    for case in cases():
        event = namespace["verified_event"](case["secret"], case["headers"], case["body"].encode())
        assert (event is not None) is case["accept"], case
    assert namespace["verified_event"](cases()[0]["secret"], cases()[0]["headers"], b"") is None


def run(command: list[str], cwd: Path) -> list[bool]:
    """Feed every case to a harness on stdin; it prints one JSON list of verdicts."""
    given = cases()
    result = subprocess.run(
        command, cwd=cwd, input=json.dumps(given), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [case["accept"] for case in given]
    return json.loads(result.stdout)


NODE_HARNESS = """
const { verifyWebhook } = require("./verify");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const verdicts = JSON.parse(input).map((c) => {
    const headers = Object.fromEntries(
      Object.entries(c.headers).map(([name, value]) => [name.toLowerCase(), value]));
    return verifyWebhook(c.secret, headers, Buffer.from(c.body, "utf8"));
  });
  console.log(JSON.stringify(verdicts));
});
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node(tmp_path):
    (tmp_path / "verify.js").write_text(snippet("verify.js"), encoding="utf-8")
    (tmp_path / "harness.js").write_text(NODE_HARNESS, encoding="utf-8")
    run(["node", "harness.js"], tmp_path)


GO_HARNESS = """
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	var cases []struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	verdicts := []bool{}
	for _, c := range cases {
		header := http.Header{}
		for name, value := range c.Headers {
			header.Set(name, value)
		}
		verdicts = append(verdicts, Verify(c.Secret, header, []byte(c.Body), 5*time.Minute) == nil)
	}
	out, _ := json.Marshal(verdicts)
	fmt.Println(string(out))
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed")
def test_go(tmp_path):
    (tmp_path / "verify.go").write_text(snippet("verify.go"), encoding="utf-8")
    (tmp_path / "harness.go").write_text(GO_HARNESS, encoding="utf-8")
    run(["go", "run", "verify.go", "harness.go"], tmp_path)


def test_documented_event_data_is_the_catalog_s():
    documented = dict(re.findall(r"^`(\w+)` — .*\n```json\n(.*?)\n```", DOC, re.M))
    for event in EVENT_TYPES:
        assert json.loads(documented[event.value]) == example_data(event.value), event.value
        assert f"`{event.value}` — {event.description.rstrip('.')}" in DOC


def _passes(name: str, event: str, **data: str) -> bool:
    return filters.matches(filters.compiled(snippet(name)), event, data)


def test_the_filter_examples_are_filters_that_do_what_they_say():
    aapl_tsla = "filter AAPL and TSLA price alerts"
    assert _passes(aapl_tsla, "price_above", symbol="AAPL", price="185.50")
    assert _passes(aapl_tsla, "price_below", symbol="TSLA", price="196.12")
    assert not _passes(aapl_tsla, "price_above", symbol="MSFT", price="402.10")
    assert not _passes(aapl_tsla, "trade_executed", symbol="AAPL", side="buy")
    # The command line example sets that same filter.
    command = snippet("set-filter")
    assert json.loads(command.split("'")[1]) == json.loads(snippet(aapl_tsla))

    moves = "filter moves over 5 percent"
    assert _passes(moves, "portfolio_change", change_percent="5.01")
    assert _passes(moves, "portfolio_change", change_percent="-7.5")
    assert not _passes(moves, "portfolio_change", change_percent="5")
    assert not _passes(moves, "portfolio_change", change_percent="-2.35")

    rises = "filter rises over 5 percent"
    assert _passes(rises, "portfolio_change", change_percent="5.5")
    assert not _passes(rises, "portfolio_change", change_percent="-7.5")
    assert not _passes(rises, "price_above", symbol="AAPL")  # no change_percent: no match


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_links_to_other_docs_resolve():
    docs = Path(__file__).parents[2] / "docs"
    for target, anchor in re.findall(r"\]\(([\w-]*\.md)?#?([\w-]*)\)", DOC):
        text = (docs / target).read_text(encoding="utf-8") if target else DOC
        if anchor:
            headings = re.findall(r"^#+ (.*)$", text, re.M)
            assert anchor in {_anchor(heading) for heading in headings}, f"{target}#{anchor}"
