"""Every key of the config schema is documented in config/README.md."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def schema_keys(node: dict, path: tuple = ()) -> list[tuple]:
    """Dotted paths of every property the schema names (``*`` for a mapping's values)."""
    keys = []
    for name, sub in (node.get("properties") or {}).items():
        keys.append(path + (name,))
        if isinstance(sub, dict):
            keys += schema_keys(sub, path + (name,))
            for part, step in (("items", "[]"), ("additionalProperties", "*")):
                if isinstance(sub.get(part), dict):
                    keys += schema_keys(sub[part], path + (name, step))
    return keys


def test_every_config_key_is_documented():
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    doc = (ROOT / "config" / "README.md").read_text()
    keys = schema_keys(schema)
    assert len(keys) > 40  # the walk reaches the nested keys
    missing = [".".join(k) for k in keys if f"`{k[-1]}`" not in doc]
    assert missing == [], f"config/README.md does not document: {', '.join(missing)}"
