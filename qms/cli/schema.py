"""``qms schema``: write the JSON Schemas of item files and ``qms.yaml`` for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qms import atomic
from qms.cli.common import project_option, say, writing
from qms.config import project_schema
from qms.schema import ITEMS_SCHEMA_FILE, PROJECT_SCHEMA_FILE, item_file_json_schema


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every published schema by file name: what ``qms schema`` writes and ``qms/schemas`` holds."""
    return {ITEMS_SCHEMA_FILE: item_file_json_schema(), PROJECT_SCHEMA_FILE: project_schema()}


def schema_text(schema: dict[str, object]) -> str:
    """A schema as the committed files hold it: indented JSON, keys in definition order."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the schema files into (created if missing; relative to --project). Default: the "
    "project folder with --project, else the current folder.",
)
@project_option
def schema(output_dir: Path | None, project_dir: Path | None) -> None:
    """Write qms-items.schema.json and qms-project.schema.json, for editors' YAML language servers.

    Point your editor at them to get completion and errors as you type, e.g. in VS Code's
    settings: "yaml.schemas": {"schemas/qms-items.schema.json": ["traceability/**/*.yaml"],
    "schemas/qms-project.schema.json": "qms.yaml"}.
    """
    base = project_dir if project_dir is not None else Path()
    output_dir = base / output_dir if output_dir is not None else base
    for name, content in published_schemas().items():
        path = output_dir / name
        with writing(path):
            atomic.write_text(path, schema_text(content))
        say(f"wrote {path}")


commands = (schema,)
