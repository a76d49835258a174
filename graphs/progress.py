"""What a person watching `ouroboros run` sees after each iteration: one rich table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def print_iteration(entry: dict[str, Any]) -> None:
    """Per task: proposals, acceptance, confidence bands; then loss and held-out score."""
    table = Table(title=f"iteration {entry['iteration']}", title_justify="left")
    for column in ("task", "proposed", "accepted", "easy", "frontier", "hard", "mean p"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for task, row in sorted(entry["tasks"].items()):
        scored = sum(row.get(band, 0) for band in ("easy", "frontier", "hard"))
        mean = f"{row['confidence_sum'] / scored:.2f}" if scored else "-"
        table.add_row(
            task,
            str(row["proposed"]),
            f"{row['accepted']} ({_pct(row['accepted'], row['proposed'])})",
            _pct(row.get("easy", 0), scored),
            _pct(row.get("frontier", 0), scored),
            _pct(row.get("hard", 0), scored),
            mean,
        )
    console.print(table)
    losses = entry.get("train_loss") or []
    loss = f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "not trained"
    heldout = entry.get("heldout") or {}
    score = heldout.get("overall")
    reasons = ", ".join(f"{k} {v}" for k, v in entry.get("reasons", {}).items()) or "none"
    console.print(
        f"accepted {entry['accepted']}/{entry['proposed']} (rejected: {reasons}); "
        f"trained on {entry['trained_on']}; loss {loss}; "
        f"held-out {'-' if score is None else f'{100 * score:.1f}'}"
    )
