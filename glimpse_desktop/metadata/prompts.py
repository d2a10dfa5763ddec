"""Prompts that image generators keep in their PNGs: Automatic1111's ``parameters`` text and
ComfyUI's ``prompt`` (API graph) and ``workflow`` (UI graph) JSON, as searchable texts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from glimpse_desktop.kernel.meta import TextItem

__all__ = ["FIELD_DESCRIPTION", "FIELD_GENERATION", "FIELD_KEYWORDS", "FIELD_NEGATIVE_PROMPT",
           "FIELD_PROMPT", "parse_a1111", "parse_comfyui"]

# Fields whose text feeds the FTS columns of the same name (see kernel/fts.py).
FIELD_DESCRIPTION = "description"
FIELD_KEYWORDS = "keywords"
FIELD_PROMPT = "prompt"
# Kept and shown, but not searched: matching a negative prompt would invert the meaning.
FIELD_NEGATIVE_PROMPT = "negative_prompt"
FIELD_GENERATION = "generation"



def parse_a1111(parameters: str) -> list[TextItem]:
    """Automatic1111 'parameters': prompt, then 'Negative prompt: ...', then a settings line."""
    lines = parameters.strip().split("\n")
    settings_at = next(
        (i for i in range(len(lines) - 1, -1, -1) if re.match(r"^\s*Steps:\s*\d", lines[i])),
        None,
    )
    body = lines if settings_at is None else lines[:settings_at]
    settings = None if settings_at is None else "\n".join(lines[settings_at:]).strip()
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in body:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line[len("Negative prompt:"):]
        target.append(line)
    items: list[TextItem] = []
    prompt = "\n".join(prompt_lines).strip()
    negative = "\n".join(negative_lines).strip()
    if prompt:
        items.append(TextItem(FIELD_PROMPT, "a1111", prompt))
    if negative:
        items.append(TextItem(FIELD_NEGATIVE_PROMPT, "a1111", negative))
    if settings:
        items.append(TextItem(FIELD_GENERATION, "a1111", settings))
    return items


# ComfyUI nodes whose text inputs are prompts; "negative" decided by how the graph wires them.
_PROMPT_KEYS = ("text", "text_g", "text_l", "prompt", "positive", "wildcard_text")


def _comfy_negative_ids(graph: Mapping[str, Any]) -> set[str]:
    negative: set[str] = set()
    for node in graph.values():
        if not isinstance(node, Mapping):
            continue
        inputs = node.get("inputs")
        if isinstance(inputs, Mapping):
            link = inputs.get("negative")
            if isinstance(link, list) and link:
                negative.add(str(link[0]))
    return negative


def parse_comfyui(prompt_json: str | None, workflow_json: str | None) -> list[TextItem]:
    """Prompt texts from a ComfyUI API graph ('prompt') or UI graph ('workflow')."""
    positives: list[str] = []
    negatives: list[str] = []
    if prompt_json:
        try:
            graph = json.loads(prompt_json)
        except ValueError:
            graph = None
        if isinstance(graph, Mapping):
            neg_ids = _comfy_negative_ids(graph)
            for node_id, node in graph.items():
                if not isinstance(node, Mapping) or not isinstance(node.get("inputs"), Mapping):
                    continue
                for key in _PROMPT_KEYS:
                    value = node["inputs"].get(key)
                    if isinstance(value, str) and value.strip():
                        (negatives if str(node_id) in neg_ids else positives).append(value.strip())
    if not positives and workflow_json:
        try:
            workflow = json.loads(workflow_json)
        except ValueError:
            workflow = None
        nodes = workflow.get("nodes") if isinstance(workflow, Mapping) else None
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, Mapping) or "TextEncode" not in str(node.get("type", "")):
                continue
            title = str(node.get("title", "")).lower()
            for value in node.get("widgets_values") or []:
                if isinstance(value, str) and value.strip():
                    (negatives if "negative" in title else positives).append(value.strip())
    items = [TextItem(FIELD_PROMPT, "comfyui", t) for t in dict.fromkeys(positives)]
    items += [TextItem(FIELD_NEGATIVE_PROMPT, "comfyui", t) for t in dict.fromkeys(negatives)]
    # Several nodes may hold prompts; one row per (field, source) keeps the schema simple.
    return _join_same_field(items)


def _join_same_field(items: Iterable[TextItem]) -> list[TextItem]:
    merged: dict[tuple[str, str], list[str]] = {}
    for item in items:
        merged.setdefault((item.field, item.source), []).append(item.value)
    return [TextItem(f, s, "\n".join(dict.fromkeys(v))) for (f, s), v in merged.items()]
