"""Re-phrase a task question with the task's other templates (used by the blind check).

A task fills one of its templates with fields (category names, choices...). Reading the
fields back out of the question with the template it came from, then filling the task's
other templates with them, gives paraphrases that ask exactly the same thing.
"""

from __future__ import annotations

import re
import string

from agents.tasks.base import Task


def template_fields(template: str, question: str) -> dict[str, str] | None:
    """The fields that turn `template` into `question`, or None when it does not fit."""
    pattern: list[str] = []
    seen: set[str] = set()
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, name, _spec, _conversion in parts:
        pattern.append(re.escape(literal))
        if name is None:
            continue
        if not name.isidentifier():
            return None
        pattern.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
    match = re.fullmatch("".join(pattern), question, flags=re.DOTALL)
    return match.groupdict() if match else None


def field_names(template: str) -> set[str]:
    """The names a template fills ('{category}' -> 'category')."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def paraphrases(task: Task, question: str, template_id: str | None = None) -> list[str]:
    """The question in each of the task's other templates that needs no field the question
    lacks ([] when no template fits).

    `template_id` ('task_name/2') says which template made the question; without it every
    template is tried in order.
    """
    order = list(range(len(task.templates)))
    own = _template_index(template_id)
    if own is not None and own in order:
        order.remove(own)
        order.insert(0, own)
    for index in order:
        fields = template_fields(task.templates[index], question)
        if fields is None:
            continue
        others = [
            template.format(**fields)
            for i, template in enumerate(task.templates)
            if i != index and field_names(template) <= fields.keys()
        ]
        return [text for text in others if text != question]
    return []


def _template_index(template_id: str | None) -> int | None:
    if not template_id or "/" not in template_id:
        return None
    tail = template_id.rsplit("/", 1)[1]
    return int(tail) if tail.isdigit() else None
