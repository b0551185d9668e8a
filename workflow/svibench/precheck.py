"""Check that config files parse before Snakemake reads them.

Snakemake parses ``--configfile`` itself, before the Snakefile (and so before
``svibench.config.validate``) runs. On a file that is not YAML it prints a two-line
``WorkflowError`` that names neither file nor line, and on a missing file a Python
traceback. ``make run`` (and ``make figures``) run this first::

    python -m svibench.precheck config/config.yaml my.yaml

Each problem is one line on stderr, ``svibench config error: FILE: line N: ...``,
and the exit status is 1; nothing is written. It also rejects a key given twice in
one mapping (YAML keeps the last one silently). What the keys mean is checked by the
Snakefile (``svibench.config.validate``), on the config Snakemake assembles.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


class PrecheckError(ValueError):
    """One line naming the file (and line) of a config that cannot be read."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise PrecheckError(f"line {key_node.start_mark.line + 1}: key {key!r} given twice "
                                f"(first on line {seen[key] + 1})")
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_config(path) -> dict:
    """The mapping of config file ``path``; ``PrecheckError`` (one line) if it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PrecheckError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise PrecheckError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError:
        raise PrecheckError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise PrecheckError(f"{path}: cannot be read ({err.strerror})") from None
    loader = _UniqueKeyLoader(text)  # a SafeLoader: builds no Python objects
    try:
        data = loader.get_single_data()
    except PrecheckError as err:
        raise PrecheckError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = " ".join(str(getattr(err, "problem", None) or err).split())
        raise PrecheckError(f"{path}:{at} YAML does not parse ({problem})") from None
    finally:
        loader.dispose()
    if data is None:
        raise PrecheckError(f"{path}: file is empty (a config is a mapping; `models` at least)")
    if not isinstance(data, dict):
        raise PrecheckError(f"{path}: must be a mapping of keys to values, "
                            f"not a {type(data).__name__}")
    return data


def main(argv=None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    for path in paths:
        try:
            read_config(path)
        except PrecheckError as err:
            print(f"svibench config error: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
