#!/usr/bin/env python3
"""Validates the example bots against the JSON Schemas in docs/.

    python scripts/validate_bot_schema.py [BOT_DIR ...]

Without arguments every folder under examples/bots/ is checked:

* each top-level ``*.yaml`` / ``*.yml`` file of a bot folder against
  ``docs/bot.schema.json`` (sub-folders such as ``data/`` hold lookup tables, not bot
  files);
* each file of ``<bot>/tests/conversations/`` against
  ``docs/conversation-test.schema.json``.

Before that the script checks the schemas themselves and runs negative self-checks:
small invalid documents that MUST be rejected (and a few valid ones that must pass), so
a schema that accepts everything cannot make this check pass.

YAML is read the way the Rust loader (serde_yaml 0.9, YAML 1.2) reads it: ``yes``,
``no``, ``on`` and ``off`` are strings, dates are strings, and a key repeated in one
mapping is an error.

Prints one line per file (with every error of a failing file) and exits with status 1 on any failure, 2 on a setup error.
Needs ``jsonschema`` and ``PyYAML`` (CI pins jsonschema==4.23.0, PyYAML==6.0.2).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError as e:  # pragma: no cover - setup problem
    print(f"error: {e}. Install the pinned tools: pip install jsonschema==4.23.0 PyYAML==6.0.2", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
BOT_SCHEMA = ROOT / "docs" / "bot.schema.json"
TEST_SCHEMA = ROOT / "docs" / "conversation-test.schema.json"
BOTS_DIR = ROOT / "examples" / "bots"
YAML_SUFFIXES = {".yaml", ".yml"}


# --------------------------------------------------------------------------- YAML 1.2


class Yaml12Loader(yaml.SafeLoader):
    """A safe loader with the YAML 1.2 core schema and duplicate-key detection."""


# Start from no implicit resolvers (PyYAML's are YAML 1.1: yes/no booleans, timestamps,
# sexagesimal numbers…) and add the YAML 1.2 core schema ones.
Yaml12Loader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]
for _tag, _pattern, _first in _RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    value = loader.construct_scalar(node).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as e:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"unhashable key ({e})", key_node.start_mark
            ) from e
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
Yaml12Loader.add_constructor(
    "tag:yaml.org,2002:map", lambda loader, node: _construct_mapping(loader, node, deep=True)
)


def load_yaml(text: str):
    return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


# --------------------------------------------------------------------------- checks


def error_lines(validator: Draft202012Validator, document) -> list[str]:
    """Every schema error as `/json/pointer: message`, deepest errors first in each group."""
    out = []
    for err in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        # For anyOf/oneOf failures the most useful message is the best sub-error.
        best = err
        if err.context:
            best = max(err.context, key=lambda e: len(e.absolute_path))
        pointer = "/" + "/".join(str(p) for p in best.absolute_path)
        out.append(f"{pointer}: {best.message}")
    return out


def check_file(validator: Draft202012Validator, path: Path) -> list[str]:
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return [f"cannot read: {e}"]
    except yaml.YAMLError as e:
        return [f"invalid YAML: {' '.join(str(e).split())}"]
    return error_lines(validator, document)


# Documents that MUST be rejected: (what is wrong, schema, YAML text).
NEGATIVE = [
    ("unknown top-level section", "bot", "intent:\n  greet: {examples: {en: [hi]}, response: greet}\n"),
    ("unknown field in an intent", "bot", "intents:\n  greet:\n    examples: {en: [hi]}\n    reponse: greet\n"),
    ("intent without examples", "bot", "intents:\n  greet: {response: greet}\n"),
    ("reserved intent name `faq`", "bot", "intents:\n  faq: {examples: {en: [hi]}, response: r}\n"),
    ("intent name with a space", "bot", "intents:\n  order status: {examples: {en: [hi]}, response: r}\n"),
    ("unsupported language code", "bot", "bot: {name: x, languages: [zh, fr]}\n"),
    ("regional language code in a text", "bot", "responses:\n  r: {text: {zh-CN: 你好}}\n"),
    ("bot without languages", "bot", "bot: {name: x}\n"),
    ("threshold above 1", "bot", "policy: {intent_threshold: 1.5}\n"),
    ("negative integer", "bot", "policy: {fallbacks_before_handoff: -1}\n"),
    ("max_history of 0", "bot", "policy: {max_history: 0}\n"),
    ("unknown NLU pipeline", "bot", "nlu: {pipeline: bert}\n"),
    ("unknown slot type", "bot", "slots:\n  s: {type: string}\n"),
    ("categorical slot without values or entity", "bot", "slots:\n  s: {type: categorical}\n"),
    ("entity with both regex and lookup", "bot", "entities:\n  e: {regex: 'a', lookup: [{value: a}]}\n"),
    ("entity with neither regex nor lookup", "bot", "entities:\n  e: {ignore_case: false}\n"),
    ("entity shadowing a built-in", "bot", "entities:\n  email: {regex: '@'}\n"),
    ("flow without slots", "bot", "flows:\n  f: {triggers: [x], slots: []}\n"),
    ("flow slot without prompt", "bot", "flows:\n  f:\n    slots:\n      - slot: order_id\n"),
    ("response text that is a number", "bot", "responses:\n  r: {text: {en: 42}}\n"),
    ("response text with an empty list", "bot", "responses:\n  r: {text: {en: []}}\n"),
    ("empty list of response variants", "bot", "responses:\n  r: []\n"),
    ("button without payload", "bot", "responses:\n  r:\n    text: {en: hi}\n    buttons: [{title: Go}]\n"),
    ("condition with an unknown key", "bot", "responses:\n  r:\n    text: {en: hi}\n    when: {slot: s, eq: 1}\n"),
    ("action of two kinds", "bot", "actions:\n  a: {code: true, lookup: {table: t.yaml, key: k}}\n"),
    ("action of no kind", "bot", "actions:\n  a: {code: false}\n"),
    ("webhook url that is not http(s)", "bot", "actions:\n  a: {webhook: {url: 'ftp://x'}}\n"),
    ("FAQ entry without answer", "bot", "faq:\n  - id: a\n    questions: {en: [q]}\n"),
    ("FAQ section that is a mapping", "bot", "faq:\n  a: {questions: {en: [q]}, answer: {en: x}}\n"),
    ("examples that are numbers", "bot", "intents:\n  affirm:\n    examples: {en: [1, 2]}\n"),
    ("test without steps", "test", "name: t\n"),
    ("test step without user", "test", "name: t\nsteps:\n  - intent: greet\n"),
    ("test step with an unknown key", "test", "name: t\nsteps:\n  - user: hi\n    replies: hello\n"),
    ("test with an unsupported language", "test", "name: t\nlanguage: fr\nsteps:\n  - user: hi\n"),
    ("test handoff that is not a boolean", "test", "name: t\nsteps:\n  - user: hi\n    handoff: maybe\n"),
]

# Documents that MUST be accepted (the YAML 1.2 reading of `yes` included).
POSITIVE = [
    ("empty file", "bot", ""),
    ("null sections", "bot", "intents:\nfaq:\npolicy:\n"),
    ("yes and no are strings", "bot", "intents:\n  affirm:\n    examples: {en: [yes, no, on, off]}\n"),
    (
        "full response variant",
        "bot",
        "responses:\n  r:\n    - text: {zh: [你好, 您好], en: hi}\n      when: {slot: s, equals: 3}\n      channel: sms\n"
        "      buttons: [{title: {zh: 好, en: OK}, payload: /greet}, {title: Go, payload: go}]\n",
    ),
    ("user message yes", "test", "name: t\nlanguage: en\nsteps:\n  - user: yes\n    slots: {a: null}\n    flow: none\n"),
]


def self_check(validators: dict[str, Draft202012Validator]) -> int:
    failures = 0
    for what, schema, text in NEGATIVE:
        try:
            document = load_yaml(text)
        except yaml.YAMLError:
            continue  # rejected before the schema: fine for a negative case
        if not error_lines(validators[schema], document):
            print(f"FAIL self-check: an invalid {schema} document was accepted ({what})")
            failures += 1
    for what, schema, text in POSITIVE:
        errors = error_lines(validators[schema], load_yaml(text))
        if errors:
            print(f"FAIL self-check: a valid {schema} document was rejected ({what}): {errors[0]}")
            failures += 1
    try:
        load_yaml("a: 1\na: 2\n")
        print("FAIL self-check: a duplicate key was accepted")
        failures += 1
    except yaml.YAMLError:
        pass
    n = len(NEGATIVE) + len(POSITIVE) + 1
    print(f"{'ok  ' if failures == 0 else 'FAIL'} self-checks ({n - failures}/{n} passed)")
    return failures


def main(argv: list[str]) -> int:
    validators = {}
    for name, path in (("bot", BOT_SCHEMA), ("test", TEST_SCHEMA)):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
        except Exception as e:  # noqa: BLE001 - report any setup problem the same way
            print(f"error: {path.relative_to(ROOT)} is not a valid JSON Schema: {e}", file=sys.stderr)
            return 2
        validators[name] = Draft202012Validator(schema)

    failures = self_check(validators)

    bot_dirs = [Path(a).resolve() for a in argv] if argv else sorted(p for p in BOTS_DIR.iterdir() if p.is_dir())
    if not bot_dirs:
        print(f"error: no bot folders under {BOTS_DIR}", file=sys.stderr)
        return 2
    checked = 0
    for bot_dir in bot_dirs:
        bot_files = sorted(p for p in bot_dir.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)
        if not bot_files:
            print(f"FAIL {display(bot_dir)}: no bot files (*.yaml) in the folder")
            failures += 1
        tests_dir = bot_dir / "tests" / "conversations"
        test_files = sorted(p for p in tests_dir.iterdir() if p.is_file()) if tests_dir.is_dir() else []
        for schema, files in (("bot", bot_files), ("test", test_files)):
            for path in files:
                checked += 1
                if schema == "test" and path.suffix not in YAML_SUFFIXES:
                    errors = ["not a .yaml file: `kefu test` ignores it"]
                else:
                    errors = check_file(validators[schema], path)
                if errors:
                    failures += 1
                    print(f"FAIL {display(path)}: {' | '.join(errors)}")
                else:
                    print(f"ok   {display(path)}")
    print(f"{checked} file(s) checked, {failures} failure(s)")
    return 1 if failures else 0


def display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
