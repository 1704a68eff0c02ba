"""`flask keys create | list | revoke`: operator keys from the command line."""

from __future__ import annotations

import re
import uuid

from app.services import operator_keys


def invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def test_create_prints_a_working_key_once_on_its_own_line(runner, ctx):
    name = f"backend {uuid.uuid4().hex[:8]}"
    created = invoke(runner, "keys", "create", name)
    assert created.exit_code == 0, created.output
    # stdout holds the key alone, for KEY=$(flask keys create NAME).
    key = created.stdout.strip()
    assert re.fullmatch(r"spk_[A-Za-z0-9_-]{40,}", key)
    assert "shown only now" in created.stderr
    stored = operator_keys.key_for(key)
    assert stored is not None and stored.name == name
    assert key not in stored.key_hash


def test_list_shows_id_name_created_last_used_and_revoked(runner, ctx):
    name = f"listed {uuid.uuid4().hex[:8]}"
    key_id = operator_keys.create_key(name)[0].id
    line = next(line for line in invoke(runner, "keys", "list").output.splitlines() if name in line)
    assert line.startswith(f"{key_id}\t{name}\tcreated=20")
    assert "last_used=-" in line and "revoked=-" in line


def test_revoke_refuses_the_key_from_then_on(runner, ctx, operator_key):
    key = operator_keys.key_for(operator_key)
    revoked = invoke(runner, "keys", "revoke", str(key.id))
    assert revoked.exit_code == 0, revoked.output
    assert f"#{key.id}" in revoked.output and "revoked" in revoked.output
    assert operator_keys.key_for(operator_key) is None
    line = next(
        line
        for line in invoke(runner, "keys", "list").output.splitlines()
        if line.startswith(f"{key.id}\t")
    )
    assert re.search(r"last_used=20\S+ \S+Z\trevoked=20", line), line


def test_refusals_are_one_line_errors(runner, ctx):
    missing = invoke(runner, "keys", "revoke", "999999")
    assert missing.exit_code == 1 and "No operator key with id 999999" in missing.output
    nameless = invoke(runner, "keys", "create", "   ")
    assert nameless.exit_code == 1 and "name" in nameless.output
    for result in (missing, nameless):
        assert "Traceback" not in result.output
